package org.shadowbox.mmu.internal.shadow;

import static org.shadowbox.mmu.internal.shadow.CounterBlock.Scope.VM;

/**
 * The shadow MMU's counters, by KVM's names ({@code struct kvm_vm_stat} and {@code kvm_vcpu_stat})
 * where KVM has one; the others count the work the cost model charges (issues 5 and 10). One
 * constant per counter: its name and its meaning are said once, here; {@link MmuStats} holds
 * the values. Those marked {@code VM} are VM-wide work that the VM's block counts, under the MMU
 * lock ({@code kvm_vm_stat}'s kind; {@code mmu_lock} is counted by the vCPUs too); the others
 * only a vCPU's block, on its own thread ({@link CounterBlock.Scope}).
 */
public enum MmuCounter implements CounterBlock.Counter {
    /** vcpu pf_fixed: faults fixed by installing an spte. */
    PF_FIXED("pf_fixed"),
    /** Faults that ended in emulating the access (page-track fast path or write protection). */
    PF_EMULATE("pf_emulate"),
    /** Faults reflected to the guest as its own #PF ({@code inject_page_fault}). */
    PF_GUEST("pf_guest"),
    /** Faults on a gfn in no memslot, emulated as MMIO. */
    PF_MMIO("pf_mmio"),
    /** vcpu invlpg. */
    INVLPG("invlpg"),
    /** vcpu tlb_flush: local flushes of the vCPU's TLB. */
    TLB_FLUSH("tlb_flush"),
    /** TLB lookups that hit and were allowed. */
    TLB_HIT("tlb_hit"),
    /** TLB lookups that missed and walked the sptes. */
    TLB_MISS("tlb_miss"),
    /** vm remote_tlb_flush: {@code kvm_flush_remote_tlbs}. */
    REMOTE_TLB_FLUSH("remote_tlb_flush", VM),
    /** vm mmu_cache_miss: {@code kvm_mmu_get_page} created a page. */
    MMU_CACHE_MISS("mmu_cache_miss", VM),
    /** vm mmu_shadow_zapped: pages zapped. */
    MMU_SHADOW_ZAPPED("mmu_shadow_zapped", VM),
    /** vm mmu_unsync: pages out of sync now (KVM counts it up on unsync and down on resync or zap). */
    MMU_UNSYNC("mmu_unsync", VM),
    /** vm mmu_recycled: pages zapped to stay under the page limit. */
    MMU_RECYCLED("mmu_recycled", VM),
    /** Pages synced ({@code kvm_sync_page}). */
    MMU_SYNC_PAGE("mmu_sync_page", VM),
    /** Emulated writes to shadowed gfns seen by the MMU's fallback notifier. */
    MMU_PTE_WRITE_FALLBACK("mmu_pte_write_fallback", VM),
    /** Shadow pages zapped by that fallback (every indirect page of the written gfn). */
    MMU_PTE_WRITE_FALLBACK_ZAPPED("mmu_pte_write_fallback_zapped", VM),
    /** Emulated writes given to the bound pte-write handler (write-flood detection) instead of the fallback. */
    MMU_PTE_WRITE_HANDLED("mmu_pte_write_handled", VM),
    /** {@code kvm_mmu_slot_gfn_write_protect} calls that changed an spte. */
    GFN_WRITE_PROTECT("gfn_write_protect", VM),
    /** Shadow-page hash chain steps walked. */
    HASH_CHAIN_STEPS("hash_chain_steps"),
    // The work the cost model (issue 5) charges, counted where it happens.
    /** vcpu exits: VM exits the vCPU took (#PF, CR3 write, INVLPG), each an exit/entry round trip. */
    EXITS("exits"),
    /** Guest page-table entries the fault handler's guest walk read ({@code FNAME(walk_addr)}). */
    GUEST_WALK_STEPS("guest_walk_steps"),
    /** Shadow entries the hypervisor walked in software ({@code FNAME(fetch)}, the lockless flood-clearing walk). */
    SHADOW_WALK_STEPS("shadow_walk_steps"),
    /** Shadow entries the processor read to refill its TLB (the hardware walk on a TLB miss). */
    TLB_WALK_STEPS("tlb_walk_steps"),
    /** MMU lock acquisitions by the hypervisor outside the fault handler (CR3 and INVLPG exits, requests, pte writes); the fault handler's are {@link #MMU_LOCK_FAULT}. */
    MMU_LOCK("mmu_lock", VM),
    /** Writes done by the emulator ({@code emulator_write_phys} calls), each delivered to every page-track notifier. */
    EMULATED_WRITES("emulated_writes"),
    /** Leaf pages marked unsync ({@code kvm_unsync_page}; {@link #MMU_UNSYNC} is how many are unsync now). */
    UNSYNC_MARKED("unsync_marked", VM),
    /** Shadow pages zapped while an emulated write to a page table was processed (flooded, misaligned, or the fallback's). */
    MMU_PTE_WRITE_ZAPPED("mmu_pte_write_zapped", VM),
    // The work the two write-protection policies do differently (issue 5's cost model charges it).
    /** vcpu pf_taken: entries into the shadow page fault handler. */
    PF_TAKEN("pf_taken"),
    /** Faults emulated by page_fault_handle_page_track's fast return (no MMU lock, no mapping attempt). */
    PF_EMULATE_TRACKED("pf_emulate_tracked"),
    /** Faults emulated after the full path: MMU lock, shadow fetch, a mapping attempt that ended read-only. */
    PF_EMULATE_WP("pf_emulate_wp"),
    /** MMU lock acquisitions by the fault handler. */
    MMU_LOCK_FAULT("mmu_lock_fault"),
    /** Pte-write handler calls made by the emulator directly (legacy policy). */
    PTE_WRITE_EMULATOR("pte_write_emulator", VM),
    // The full fault path's steps and KVM's remote flush (issue 10), counted where they happen.
    /** {@code is_self_change_mapping}: the fault's guest walk compared with the faulting gfn (the full fault path only). */
    SELF_CHANGE_CHECKS("self_change_checks"),
    /** {@code mapping_level}'s host side, {@code host_mapping_level}: the host page size behind the gfn ({@code find_vma} under {@code mmap_sem} in KVM; the sandbox has neither and charges the call). */
    HOST_MAPPING_LEVEL("host_mapping_level"),
    /** gfn to pfn translations ({@code try_async_pf} / {@code __gfn_to_pfn_memslot}: memslot lookup, hva, {@code get_user_pages_fast}; the sandbox charges a memslot lookup and a host page translation). */
    GFN_TO_PFN("gfn_to_pfn"),
    /** Checks under the MMU lock before a fault maps anything: {@code mmu_notifier_retry} and {@code make_mmu_pages_available}'s free-page test. */
    FAULT_LOCK_CHECKS("fault_lock_checks"),
    /** Guest entries re-read and compared by {@code FNAME(fetch)} ({@code FNAME(gpte_changed)}), one per indirect level walked. */
    GPTE_RECHECKS("gpte_rechecks"),
    /** Exits this vCPU took for a remote-flush IPI that found it in guest mode (counted when it serves the flush, on its own clock). */
    IPI_EXITS("ipi_exits"),
    /** Remote flushes that sent at least one IPI: the requester sends them together and waits for the slowest acknowledgement. */
    REMOTE_FLUSH_IPIS("remote_flush_ipis", VM),
    /** {@code kvm_make_request(KVM_REQ_TLB_FLUSH)} posted by remote flushes, one per vCPU of the VM. */
    REMOTE_FLUSH_REQUESTS("remote_flush_requests", VM),
    /** Shadow-page hash chain walks begun (lookups by gfn); {@link #HASH_CHAIN_STEPS} over this is the mean chain walked. */
    HASH_LOOKUPS("hash_lookups");

    private final String kvmName;
    private final CounterBlock.Scope scope;

    MmuCounter(String kvmName) {
        this(kvmName, CounterBlock.Scope.VCPU);
    }

    MmuCounter(String kvmName, CounterBlock.Scope scope) {
        this.kvmName = kvmName;
        this.scope = scope;
    }

    @Override
    public String kvmName() {
        return kvmName;
    }

    @Override
    public boolean vm() {
        return scope == CounterBlock.Scope.VM;
    }
}
