package org.shadowbox.mmu.internal.tdp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The TDP MMU's counters, by KVM's names where KVM has one ({@code kvm_vcpu_stat},
 * {@code kvm_vm_stat}). Plain {@code long}s: the VM's instance changes under its MMU lock,
 * each vCPU's only on its own thread; {@link TdpMmu#stats()} sums them.
 */
public final class TdpStats {
    /** vcpu pf_taken: TDP violations, i.e. exits to the TDP fault handler. */
    public long pfTaken;
    /** vcpu pf_fixed: violations fixed by installing or upgrading a TDP entry. */
    public long pfFixed;
    /** vcpu pf_emulate: violations that ended in emulating the access. */
    public long pfEmulate;
    /** Of those, the ones page_fault_handle_page_track sent to emulation at once. */
    public long pfEmulateTracked;
    /** Violations on a gpa in no memslot (or a write to a read-only slot), emulated as MMIO. */
    public long pfMmio;
    /** vcpu pf_spurious: the entry was already fixed by another vCPU when the handler looked. */
    public long pfSpurious;
    /** Guest page faults, delivered by the hardware without an exit (not seen by KVM; counted here). */
    public long guestPf;
    /** Guest INVLPG, executed without an exit (EPT does not intercept it). */
    public long invlpg;
    /** vcpu tlb_flush: local flushes of a vCPU's TLB. */
    public long tlbFlush;
    /** TLB lookups that hit and were allowed. */
    public long tlbHit;
    /** TLB lookups that missed: a guest walk and a TDP walk by the hardware. */
    public long tlbMiss;
    /** vm remote_tlb_flush: {@code kvm_flush_remote_tlbs}. */
    public long remoteTlbFlush;
    /** vm mmu_cache_miss: TDP table pages allocated. */
    public long mmuCacheMiss;
    /** vm mmu_shadow_zapped: TDP table pages freed by a zap. */
    public long mmuShadowZapped;
    /** vm lpages: large (2 MiB and 1 GiB) TDP leaves installed now. */
    public long lpages;
    /** {@code kvm_mmu_slot_gfn_write_protect} calls that changed a TDP entry. */
    public long gfnWriteProtect;
    /** MMU lock acquisitions by the fault handler (the page-track fast path takes none). */
    public long mmuLockFault;

    /** Adds {@code o}'s counters to these. */
    public void add(TdpStats o) {
        pfTaken += o.pfTaken;
        pfFixed += o.pfFixed;
        pfEmulate += o.pfEmulate;
        pfEmulateTracked += o.pfEmulateTracked;
        pfMmio += o.pfMmio;
        pfSpurious += o.pfSpurious;
        guestPf += o.guestPf;
        invlpg += o.invlpg;
        tlbFlush += o.tlbFlush;
        tlbHit += o.tlbHit;
        tlbMiss += o.tlbMiss;
        remoteTlbFlush += o.remoteTlbFlush;
        mmuCacheMiss += o.mmuCacheMiss;
        mmuShadowZapped += o.mmuShadowZapped;
        lpages += o.lpages;
        gfnWriteProtect += o.gfnWriteProtect;
        mmuLockFault += o.mmuLockFault;
    }

    /** Every counter by its KVM-style name, in a stable order. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("pf_taken", pfTaken);
        m.put("pf_fixed", pfFixed);
        m.put("pf_emulate", pfEmulate);
        m.put("pf_emulate_tracked", pfEmulateTracked);
        m.put("pf_mmio", pfMmio);
        m.put("pf_spurious", pfSpurious);
        m.put("guest_pf", guestPf);
        m.put("invlpg", invlpg);
        m.put("tlb_flush", tlbFlush);
        m.put("tlb_hit", tlbHit);
        m.put("tlb_miss", tlbMiss);
        m.put("remote_tlb_flush", remoteTlbFlush);
        m.put("mmu_cache_miss", mmuCacheMiss);
        m.put("mmu_shadow_zapped", mmuShadowZapped);
        m.put("lpages", lpages);
        m.put("gfn_write_protect", gfnWriteProtect);
        m.put("mmu_lock_fault", mmuLockFault);
        return m;
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
