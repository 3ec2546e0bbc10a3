package org.shadowbox.writeflood.internal;

import org.shadowbox.vm.VmException;

/**
 * How emulated writes to shadowed guest page tables are handled. Every policy keeps the shadow
 * coherent, so the guest sees the same; they differ in the work done (sptes updated in place,
 * shadow pages zapped and rebuilt).
 */
public enum FloodPolicy {
    /** KVM 2016's {@code kvm_mmu_pte_write}: update in place, zap on a misaligned write or a flood. */
    KVM,
    /** Xen's early unshadow (two emulated writes of zeros with no other fault between), then the KVM rules. */
    XEN,
    /** Zap every shadow page of the written gfn, no detection: the MMU's own fallback. */
    ZAP;

    /** {@code kvm}, {@code xen} or {@code zap}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses a policy name (any case), or fails in one line naming the accepted ones. */
    public static FloodPolicy parse(String s) {
        if (s != null) {
            for (FloodPolicy p : values()) {
                if (p.label().equalsIgnoreCase(s.trim())) {
                    return p;
                }
            }
        }
        throw new VmException("unknown write-flood policy '" + s + "': accepted kvm, xen, zap");
    }
}
