package org.shadowbox.mmu.internal.shadow;

/**
 * A vCPU's {@code mmu_page_cache} ({@code struct kvm_mmu_memory_cache}): zeroed 4 KiB tables for
 * the shadow pages made under the MMU lock, a page's {@code spt} and, for an indirect page, its
 * {@code gfns}, as {@code kvm_mmu_alloc_page} takes both from this cache. The vCPU fills it
 * before it takes the lock ({@link #topup}, {@code mmu_topup_memory_caches}: below
 * {@link #MIN} objects it fills up to {@link #OBJECTS}) and takes from it under the lock
 * ({@link #alloc}, {@code mmu_memory_cache_alloc}), so that no allocation happens in the
 * lock's sections. In KVM that is because a spinlock's holder may not sleep; here it is what
 * keeps an allocation's latency (a host page touched for the first time, a collection) out of
 * the serial part of the VM. One fault makes at most four pages (eight tables) and a root load
 * at most four, so {@link #MIN} is enough, as it is in KVM 4.5.
 *
 * <p>Only the vCPU's own thread calls {@link #topup} and {@link #alloc}, as only a vCPU fills
 * and takes from its own caches in KVM. A take from an empty cache (a section that made more
 * pages than its top-up provided for; KVM would {@code BUG_ON}) allocates, so the VM goes on, and
 * is counted ({@link #emptyTakes}), which tests require to stay zero.
 */
final class MmuMemoryCache {
    /** {@code mmu_topup_memory_caches}' minimum for the page cache in KVM 4.5. */
    static final int MIN = 8;
    /** {@code KVM_NR_MEM_OBJS}: a top-up fills the cache to this. */
    static final int OBJECTS = 40;

    private final long[][] objects = new long[OBJECTS][];
    private int nobjs;
    /** What a top-up fills to: {@link #OBJECTS}, or {@link #MIN} for tests ({@link #fillOnlyToMinimum}). */
    private int fill = OBJECTS;
    private long emptyTakes;

    /** {@code mmu_topup_memory_cache_page}: with fewer than {@link #MIN} tables, allocates up to {@link #OBJECTS}. */
    void topup() {
        if (nobjs >= MIN) {
            return;
        }
        while (nobjs < fill) {
            objects[nobjs++] = new long[Spte.ENTRIES];
        }
    }

    /** {@code mmu_memory_cache_alloc}: a zeroed table of 512 entries. */
    long[] alloc() {
        if (nobjs == 0) {
            emptyTakes++;
            return new long[Spte.ENTRIES];
        }
        long[] t = objects[--nobjs];
        objects[nobjs] = null;
        return t;
    }

    /**
     * For tests: a top-up fills only to {@link #MIN}, so that a section that makes pages with no
     * top-up before it finds the cache short at once rather than after the tables a previous
     * top-up left over.
     */
    void fillOnlyToMinimum() {
        fill = MIN;
    }

    /** Tables in the cache. */
    int size() {
        return nobjs;
    }

    /** Takes that found the cache empty (a missed top-up). */
    long emptyTakes() {
        return emptyTakes;
    }
}
