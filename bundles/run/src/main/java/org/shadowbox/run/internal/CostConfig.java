package org.shadowbox.run.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The cost model's figures: Configuration Admin PID {@value CostModel#PID} (for example
 * {@code workspace/config/org.shadowbox.cost.cfg}). Every figure is simulated cycles per event
 * of one kind of work, whoever does it: the legacy and page-track paths are charged by the same
 * table and differ only in the work they do. The defaults are round numbers of the order the
 * public measurements cited on each give for a recent Intel core; change them to ask "what if".
 */
@ObjectClassDefinition(name = "Shadowbox cost model",
        description = "Simulated cycles per event of MMU work; real, user and sys are derived from them.")
public @interface CostConfig {

    /** {@code clock.mhz}: the simulated clock that turns cycles into seconds (3000: a 3 GHz core). */
    @AttributeDefinition(name = "Clock (MHz)", min = "1", description = "Simulated core clock in MHz.")
    int clock_mhz() default 3000;

    /**
     * {@code guest.access}: the guest's own instructions per memory access. About one x86
     * instruction in three reads or writes memory and a core retires one to two per cycle in
     * compiler-like code (SPEC CPU's gcc runs at an IPC near 1): about 3 cycles per access.
     */
    @AttributeDefinition(name = "Guest access", min = "0")
    int guest_access() default 3;

    /**
     * {@code vm.exit}: one VM exit and re-entry (the round trip, with KVM's minimal dispatch).
     * kvm-unit-tests' vmexit "cpuid" test is reported at roughly 1,000 to 1,500 cycles on recent
     * Intel cores (Intel's own figures put the bare VMX transition round trip at several hundred
     * cycles since Nehalem; Agesen et al., USENIX ATC 2012, measured the same order).
     */
    @AttributeDefinition(name = "VM exit round trip", min = "0")
    int vm_exit() default 1200;

    /**
     * {@code guest.walk.step}: one level of KVM's software walk of the guest's tables
     * ({@code FNAME(walk_addr)}: memslot lookup, a user-space read of the gpte, checks, A/D):
     * a few tens of cycles when the entry is in cache.
     */
    @AttributeDefinition(name = "Guest walk step", min = "0")
    int guest_walk_step() default 40;

    /** {@code shadow.walk.step}: one level of a software walk of the sptes ({@code for_each_shadow_entry}). */
    @AttributeDefinition(name = "Shadow walk step", min = "0")
    int shadow_walk_step() default 15;

    /**
     * {@code tlb.walk.step}: one entry read by the processor's page walker on a TLB miss. A walk
     * whose entries hit the caches (and the paging-structure caches) costs a few tens of cycles
     * for 4 levels (Intel's optimization manual; Bhargava et al., ASPLOS 2008, for nested walks).
     */
    @AttributeDefinition(name = "TLB walk step", min = "0")
    int tlb_walk_step() default 8;

    /** {@code hash.chain.step}: one {@code kvm_mmu_page} visited on a hash chain (a pointer chase, often a cache miss). */
    @AttributeDefinition(name = "Hash chain step", min = "0")
    int hash_chain_step() default 20;

    /** {@code mmu.lock}: an uncontended {@code mmu_lock} acquire and release (two atomic operations, about 20 cycles each). */
    @AttributeDefinition(name = "MMU lock", min = "0")
    int mmu_lock() default 40;

    /**
     * {@code sp.alloc}: a new shadow page ({@code kvm_mmu_alloc_page} from the pre-filled caches,
     * clearing its 4 KiB table, hashing and accounting it): about a thousand cycles.
     */
    @AttributeDefinition(name = "Shadow page allocation", min = "0")
    int sp_alloc() default 1000;

    /** {@code sp.zap}: zapping a shadow page ({@code kvm_mmu_prepare_zap_page}: 512 sptes, rmaps, parents; then the free). */
    @AttributeDefinition(name = "Shadow page zap", min = "0")
    int sp_zap() default 2000;

    /** {@code sp.sync}: resyncing an unsync page ({@code kvm_sync_page}: 512 gptes read and compared). */
    @AttributeDefinition(name = "Shadow page sync", min = "0")
    int sp_sync() default 3000;

    /** {@code sp.unsync}: marking a leaf page unsync and its parents' unsync bits ({@code kvm_unsync_page}). */
    @AttributeDefinition(name = "Shadow page unsync", min = "0")
    int sp_unsync() default 150;

    /**
     * {@code emulation}: emulating one instruction (KVM's x86 emulator: fetch, decode, execute,
     * write back): thousands of cycles; KVM developers quote 2 to 3 thousand for a simple
     * {@code mov} to memory.
     */
    @AttributeDefinition(name = "Emulation", min = "0")
    int emulation() default 2500;

    /** {@code notifier.call}: one page-track notifier called for an emulated write (SRCU read side, an indirect call). */
    @AttributeDefinition(name = "Notifier call", min = "0")
    int notifier_call() default 30;

    /** {@code tlb.flush.local}: a full flush of a vCPU's TLB (the refills that follow are charged as TLB walk steps). */
    @AttributeDefinition(name = "Local TLB flush", min = "0")
    int tlb_flush_local() default 200;

    /** {@code gpte.recheck}: {@code FNAME(gpte_changed)}, one guest entry re-read and compared by {@code FNAME(fetch)}. */
    @AttributeDefinition(name = "Guest pte recheck", min = "0")
    int gpte_recheck() default 40;

    /** {@code fault.self.change}: {@code is_self_change_mapping} on the full fault path. */
    @AttributeDefinition(name = "Self-change check", min = "0")
    int fault_self_change() default 20;

    /** {@code host.mapping.level}: {@code host_mapping_level} ({@code find_vma} under {@code mmap_sem}). */
    @AttributeDefinition(name = "Host mapping level", min = "0")
    int host_mapping_level() default 150;

    /** {@code gfn.to.pfn}: memslot lookup, hva and {@code get_user_pages_fast}. */
    @AttributeDefinition(name = "gfn to pfn", min = "0")
    int gfn_to_pfn() default 250;

    /** {@code fault.lock.checks}: {@code mmu_notifier_retry} and {@code make_mmu_pages_available}'s test. */
    @AttributeDefinition(name = "Fault checks under the lock", min = "0")
    int fault_lock_checks() default 10;

    /** {@code tlb.flush.request}: one {@code kvm_make_request(KVM_REQ_TLB_FLUSH)} of a remote flush (a locked set_bit). */
    @AttributeDefinition(name = "Remote flush request, per vCPU", min = "0")
    int tlb_flush_request() default 20;

    /**
     * {@code ipi.wait}: a remote flush that IPIs at least one vCPU in guest mode: sending the IPIs
     * together and waiting for the slowest acknowledgement (about 1 to 3 microseconds); charged
     * once to the requester. Each kicked vCPU pays its own exit and flush on its own clock.
     */
    @AttributeDefinition(name = "Remote flush IPI wait", min = "0")
    int ipi_wait() default 4000;
}
