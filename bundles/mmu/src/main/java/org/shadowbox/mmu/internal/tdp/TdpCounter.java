package org.shadowbox.mmu.internal.tdp;

import static org.shadowbox.mmu.internal.shadow.CounterBlock.Scope.VM;

import org.shadowbox.mmu.internal.shadow.CounterBlock;

/**
 * The TDP MMU's counters, by KVM's names where KVM has one ({@code kvm_vcpu_stat}, {@code
 * kvm_vm_stat}). One constant per counter: its name and its meaning are said once, here;
 * {@link TdpStats} holds the values. Those marked {@code VM} are VM-wide work that the VM's
 * block counts under the MMU lock; the others only a vCPU's block ({@link CounterBlock.Scope}).
 */
public enum TdpCounter implements CounterBlock.Counter {
    /** vcpu pf_taken: TDP violations, i.e. exits to the TDP fault handler. */
    PF_TAKEN("pf_taken"),
    /** vcpu pf_fixed: violations fixed by installing or upgrading a TDP entry. */
    PF_FIXED("pf_fixed"),
    /** vcpu pf_emulate: violations on guest RAM that ended in emulating the access (MMIO is {@link #PF_MMIO}: the two are disjoint, as under shadow paging). */
    PF_EMULATE("pf_emulate"),
    /** Of those, the ones page_fault_handle_page_track sent to emulation at once. */
    PF_EMULATE_TRACKED("pf_emulate_tracked"),
    /** Violations on a gpa in no memslot, or writes to a read-only slot: emulated as MMIO. */
    PF_MMIO("pf_mmio"),
    /** vcpu pf_spurious: the entry was already fixed by another vCPU when the handler looked. */
    PF_SPURIOUS("pf_spurious"),
    /** Guest page faults, delivered by the hardware without an exit (not seen by KVM; counted here). */
    GUEST_PF("guest_pf"),
    /** Guest INVLPG, executed without an exit (EPT does not intercept it). */
    INVLPG("invlpg"),
    /** vcpu tlb_flush: local flushes of a vCPU's TLB. */
    TLB_FLUSH("tlb_flush"),
    /** TLB lookups that hit and were allowed. */
    TLB_HIT("tlb_hit"),
    /** TLB lookups that missed: a guest walk and a TDP walk by the hardware. */
    TLB_MISS("tlb_miss"),
    /** vm remote_tlb_flush: {@code kvm_flush_remote_tlbs}. */
    REMOTE_TLB_FLUSH("remote_tlb_flush", VM),
    /** vm mmu_cache_miss: TDP table pages allocated. */
    MMU_CACHE_MISS("mmu_cache_miss", VM),
    /** vm mmu_shadow_zapped: TDP table pages freed by a zap. */
    MMU_SHADOW_ZAPPED("mmu_shadow_zapped", VM),
    /** vm lpages: large (2 MiB and 1 GiB) TDP leaves installed now. */
    LPAGES("lpages", VM),
    /** {@code kvm_mmu_slot_gfn_write_protect} calls that changed a TDP entry. */
    GFN_WRITE_PROTECT("gfn_write_protect", VM),
    /** MMU lock acquisitions by the fault handler (the page-track fast path takes none). */
    MMU_LOCK_FAULT("mmu_lock_fault"),
    /** vcpu exits: VM exits the vCPU took. Under TDP only a violation exits (CR3 loads and INVLPG do not), so this equals {@link #PF_TAKEN}; the cost model charges it by the name the shadow MMU uses. */
    EXITS("exits"),
    /** TDP entries the fault handler walked in software ({@code __direct_map}'s {@code for_each_shadow_entry}: the TDP table is KVM's direct shadow pages, hence the shadow MMU's name). */
    SHADOW_WALK_STEPS("shadow_walk_steps"),
    /** Entries the processor's walk read to refill the TLB: the guest's own entries, then the TDP entries of the gpa (the translations of the guest's table pages are taken as held by the paging-structure caches). */
    TLB_WALK_STEPS("tlb_walk_steps"),
    /** Writes done by the emulator ({@code emulator_write_phys} calls), each delivered to every page-track notifier. */
    EMULATED_WRITES("emulated_writes"),
    /** {@code kvm_page_track_is_active} calls by the fault handler: what the page-track series added to the TDP path ({@code page_fault_handle_page_track}, {@code mmu_need_write_protect}); none under policy=legacy. */
    PAGE_TRACK_LOOKUPS("page_track_lookups"),
    /** {@code host_mapping_level} calls of the fault path (the sandbox has no {@code find_vma}; the call is charged). */
    HOST_MAPPING_LEVEL("host_mapping_level"),
    /** gfn to pfn translations ({@code try_async_pf}: memslot lookup, hva, {@code get_user_pages_fast}). */
    GFN_TO_PFN("gfn_to_pfn"),
    /** {@code mmu_notifier_retry} and {@code make_mmu_pages_available} under the MMU lock. */
    FAULT_LOCK_CHECKS("fault_lock_checks"),
    /** Exits this vCPU took for a remote-flush IPI that found it in guest mode. */
    IPI_EXITS("ipi_exits"),
    /** Remote flushes that sent at least one IPI. */
    REMOTE_FLUSH_IPIS("remote_flush_ipis", VM),
    /** TLB-flush requests posted by remote flushes, one per vCPU. */
    REMOTE_FLUSH_REQUESTS("remote_flush_requests", VM);

    private final String kvmName;
    private final CounterBlock.Scope scope;

    TdpCounter(String kvmName) {
        this(kvmName, CounterBlock.Scope.VCPU);
    }

    TdpCounter(String kvmName, CounterBlock.Scope scope) {
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
