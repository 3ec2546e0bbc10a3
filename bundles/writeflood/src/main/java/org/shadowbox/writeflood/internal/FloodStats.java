package org.shadowbox.writeflood.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One VM's write-flood counters, by KVM's names where KVM has them ({@code struct kvm_vm_stat}:
 * mmu_pte_write, mmu_pte_updated, mmu_pde_zapped, mmu_flooded), then this bundle's own. Changed
 * only under the VM's MMU lock; {@link VmFlood#snapshot} copies them under it.
 */
final class FloodStats {
    /** Writes past the early return (some indirect shadow page existed). */
    long mmuPteWrite;
    /** Leaf sptes rebuilt from the new gpte ({@code mmu_pte_write_new_pte} at level 1). */
    long mmuPteUpdated;
    /** Non-leaf sptes only zapped ({@code mmu_pte_write_new_pte} above level 1). */
    long mmuPdeZapped;
    /** Shadow pages zapped as misaligned or flooded. */
    long mmuFlooded;
    /** Of {@link #mmuFlooded}: zapped because the write was misaligned. */
    long misaligned;
    /** Writes that ended in the commit's flush, a remote flush, or a local flush only. */
    long flushCommit;
    long flushRemote;
    long flushLocal;
    /** Writes handled under each policy. */
    long kvmWrites;
    long xenWrites;
    long zapWrites;
    /** Xen: early unshadows (the second zero write) and the shadow pages they zapped. */
    long xenEarlyUnshadow;
    long xenUnshadowedPages;
    /** Zap policy: shadow pages zapped. */
    long zapPages;

    FloodStats copy() {
        FloodStats c = new FloodStats();
        c.mmuPteWrite = mmuPteWrite;
        c.mmuPteUpdated = mmuPteUpdated;
        c.mmuPdeZapped = mmuPdeZapped;
        c.mmuFlooded = mmuFlooded;
        c.misaligned = misaligned;
        c.flushCommit = flushCommit;
        c.flushRemote = flushRemote;
        c.flushLocal = flushLocal;
        c.kvmWrites = kvmWrites;
        c.xenWrites = xenWrites;
        c.zapWrites = zapWrites;
        c.xenEarlyUnshadow = xenEarlyUnshadow;
        c.xenUnshadowedPages = xenUnshadowedPages;
        c.zapPages = zapPages;
        return c;
    }

    /** Every counter by name, in a stable order. */
    Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("mmu_pte_write", mmuPteWrite);
        m.put("mmu_pte_updated", mmuPteUpdated);
        m.put("mmu_pde_zapped", mmuPdeZapped);
        m.put("mmu_flooded", mmuFlooded);
        m.put("misaligned", misaligned);
        m.put("flush_commit", flushCommit);
        m.put("flush_remote", flushRemote);
        m.put("flush_local", flushLocal);
        m.put("kvm_writes", kvmWrites);
        m.put("xen_writes", xenWrites);
        m.put("zap_writes", zapWrites);
        m.put("xen_early_unshadow", xenEarlyUnshadow);
        m.put("xen_unshadowed_pages", xenUnshadowedPages);
        m.put("zap_pages", zapPages);
        return m;
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
