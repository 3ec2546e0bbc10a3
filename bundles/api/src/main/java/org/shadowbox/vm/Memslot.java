package org.shadowbox.vm;


import org.osgi.annotation.versioning.ProviderType;

/**
 * One memslot: guest physical memory {@code [baseGfn, baseGfn + npages)} with its flags
 * and the per-slot "arch" data KVM keeps in {@code kvm_arch_memory_slot}: the large-page
 * disallow counts ({@code lpage_info}) and the page-track counters ({@code gfn_track}).
 *
 * <p>This is the tracker's view: geometry, flags, host frame numbers, dirty log and large-page
 * counts, read-only. The host pages themselves (mutable arrays that bypass every check) and the
 * counters are the platform's: {@link org.shadowbox.vm.spi.PlatformMemslot}. A tracker reads and
 * writes guest memory through {@link GuestMemory}.
 *
 * <p>A Memslot object is immutable in its geometry: a move produces a new Memslot (with
 * fresh, zeroed arch data, as KVM's move does) that shares the old one's memory.
 */
@ProviderType
public interface Memslot {
    /** KVM_MEM_LOG_DIRTY_PAGES. */
    int LOG_DIRTY_PAGES = 1;
    /** KVM_MEM_READONLY: guest writes exit as MMIO and are dropped. */
    int READONLY = 2;
    /** Slot ids accepted (KVM_USER_MEM_SLOTS is 32764 on x86; a sandbox needs fewer). */
    int MAX_SLOT_ID = 511;

    /** PG_LEVEL_4K. */
    int LEVEL_4K = 1;
    /** PG_LEVEL_2M: the first large-page level. */
    int LEVEL_2M = 2;
    /** PG_LEVEL_1G: the largest level (KVM_MAX_HUGEPAGE_LEVEL). */
    int LEVEL_1G = 3;

    int id();

    long baseGfn();

    long npages();

    int flags();

    default long endGfn() {
        return baseGfn() + npages();
    }

    default boolean contains(long gfn) {
        return gfn >= baseGfn() && gfn < endGfn();
    }

    default boolean readonly() {
        return (flags() & READONLY) != 0;
    }

    default boolean dirtyLogging() {
        return (flags() & LOG_DIRTY_PAGES) != 0;
    }

    /**
     * The host frame number (pfn) backing {@code gfn}: stable for the life of the slot's
     * memory, unique across the VM, so that sptes and TLB entries can name host memory.
     */
    long hostFrame(long gfn);

    /** Pages of this slot that have host memory behind them. */
    long residentPages();

    /**
     * {@code KVM_GET_DIRTY_LOG}: the gfns written (by a vCPU or by the host) since the last
     * call, sorted, and clears the log. Always empty unless the slot has
     * {@link #LOG_DIRTY_PAGES}. KVM returns a bitmap; a sorted list reads better in a sandbox.
     */
    long[] getDirtyLog();

    /**
     * {@code lpage_info[level - 2][index].disallow_lpage} for the large frame containing
     * {@code gfn}: non-zero means no spte of {@code level} may map it. A frame that the
     * slot does not cover whole (an unaligned slot edge) always counts at least 1.
     *
     * @param level {@link #LEVEL_2M} or {@link #LEVEL_1G}
     */
    int lpageDisallowCount(long gfn, int level);
}
