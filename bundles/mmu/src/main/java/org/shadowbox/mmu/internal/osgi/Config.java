package org.shadowbox.mmu.internal.osgi;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The MMU's tunables: Configuration Admin PID {@value MmuComponent#PID}. A changed
 * configuration re-activates the component, which rebuilds every VM's MMU (the guests see
 * only a cold TLB and cold shadow tables).
 */
@ObjectClassDefinition(name = "Shadowbox MMU",
        description = "The shadow MMU of every VM (KVM arch/x86/kvm/mmu): TLB model, root cache, page limit.")
public @interface Config {

    /**
     * {@code tlb.entries}: translations each vCPU's TLB model caches, a power of two. KVM has
     * no such number (the TLB is the processor's); 64 is the first-level data TLB of a recent
     * x86 core, small enough that a missing flush is seen quickly.
     */
    @AttributeDefinition(name = "TLB entries per vCPU", min = "1", max = "65536",
            description = "A power of two from 1 to 65536: the direct-mapped TLB model of each vCPU.")
    int tlb_entries() default DEFAULT_TLB_ENTRIES;

    /**
     * {@code root.cache}: earlier roots a vCPU keeps besides the current one, so that a CR3
     * switch back finds its shadow root (KVM's {@code KVM_MMU_NUM_PREV_ROOTS}, 3).
     */
    @AttributeDefinition(name = "Cached roots per vCPU", min = "0", max = "16",
            description = "Previous CR3 roots kept per vCPU (KVM_MMU_NUM_PREV_ROOTS is 3); 0 to 16.")
    int root_cache() default DEFAULT_ROOT_CACHE;

    /**
     * {@code max.mmu.pages}: the shadow-page limit of every VM ({@code KVM_SET_NR_MMU_PAGES});
     * 0 lets the MMU compute it as KVM's {@code kvm_mmu_calculate_mmu_pages} does, 20 per
     * mille of the guest's pages and at least 64, again after every memslot change.
     */
    @AttributeDefinition(name = "Shadow pages per VM", min = "0",
            description = "0: computed as KVM does (20 per mille of guest pages, at least 64); else at least 4.")
    int max_mmu_pages() default 0;

    /** The default of {@link #tlb_entries()}. */
    int DEFAULT_TLB_ENTRIES = 64;
    /** The default of {@link #root_cache()}: KVM_MMU_NUM_PREV_ROOTS. */
    int DEFAULT_ROOT_CACHE = 3;
}
