package org.shadowbox.guest.internal.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.VmException;

/**
 * Guest physical pages: the page allocator and the per-page state Linux keeps in
 * {@code struct page} (what a page is used for, how many ptes map it). Free pages are handed
 * out last-freed-first, as the per-CPU page lists do, so a page-table page freed by one process
 * comes back as the next process's data page: the reuse that write-flood detection exists for.
 * The first 1 MiB is reserved (BIOS and real-mode area, as Linux reserves it).
 *
 * <p>Locking. The free list, {@link #use} and {@link #lastUse} change only under the zone lock
 * ({@code zone->lock}, {@link #zoneLock}), taken inside {@link #alloc} and {@link #free} and
 * nowhere else: a leaf lock, below every other guest lock; no guest access is made under it.
 * Callers must not hold a page-table lock (Linux allocates with {@code GFP_KERNEL} before it
 * takes the PTL, never under it). A page's {@code use} may be read without the lock by whoever
 * maps the page (it cannot be freed meanwhile). The map counts are atomic
 * ({@code page->_mapcount} is an {@code atomic_t}): two address spaces sharing a page
 * copy-on-write change its count under two different page-table locks. Linux takes the zone
 * lock on the hot path only when a per-CPU list runs dry; this model has no per-CPU lists (they
 * would change which page a one-thread run gets, and so every count it gives), so every
 * allocation takes the zone lock: under {@code -Dshadowbox.lockstat=true} its share of a run is
 * measured.
 */
final class PhysMem {
    static final byte FREE = 0, RESERVED = 1, PAGE_TABLE = 2, ANON = 3, FILE = 4, ZERO = 5, KERNEL = 6;
    private static final long RESERVED_BELOW_GFN = 0x100;

    final int frames;
    /** What each gfn holds now ({@link #FREE} ... {@link #KERNEL}). */
    final byte[] use;
    /** What each gfn held before it was last freed (FREE if never used). */
    final byte[] lastUse;
    /** ptes mapping the page ({@code page_mapcount}); atomic, through {@link #MAP_COUNT}. */
    private final int[] mapCount;
    private static final VarHandle MAP_COUNT = MethodHandles.arrayElementVarHandle(int[].class);
    /** {@code zone->lock}. */
    private final KLock zoneLock = new KLock("zone->lock");
    private final int[] free;
    private int freeTop;
    private final int total;
    /** The most pages allocated at once so far (under the zone lock). */
    private int peak;
    private final Counters counters;

    /** Pages of every memslot below {@code limitBytes} (and below 4 GiB of frames), minus the reserved first 1 MiB. */
    PhysMem(List<Memslot> slots, long limitBytes, Counters counters) {
        this.counters = counters;
        long end = frames(slots, limitBytes);
        frames = (int) end;
        use = new byte[frames];
        lastUse = new byte[frames];
        mapCount = new int[frames];
        free = new int[frames];
        java.util.Arrays.fill(use, RESERVED);
        // Push from the top down so that the first allocations are the lowest pages (boot tables
        // below 4 GiB, reachable with paging off).
        for (int i = slots.size() - 1; i >= 0; i--) {
            Memslot s = slots.get(i);
            if (s.readonly()) {
                continue;
            }
            for (long gfn = Math.min(s.endGfn(), end) - 1; gfn >= Math.max(s.baseGfn(), RESERVED_BELOW_GFN); gfn--) {
                use[(int) gfn] = FREE;
                free[freeTop++] = (int) gfn;
            }
        }
        total = freeTop;
        if (total < 256) {
            throw new VmException("guest RAM too small: " + total + " usable pages above 1 MiB; accepted at least 1 MiB more (e.g. a 64M VM)");
        }
    }

    /** The frames (gfn 0 up to the end of the last RAM slot) the allocator keeps state for: at most 4 GiB of them. */
    static long frames(List<Memslot> slots, long limitBytes) {
        long end = 0;
        for (Memslot s : slots) {
            if (!s.readonly()) {
                end = Math.max(end, s.endGfn());
            }
        }
        return Math.min(end, Math.min(limitBytes >>> 12, 1L << 20));
    }

    /**
     * Visits the usable frames of a guest with these memslots in the order the allocator hands
     * them out first (the lowest first: the constructor pushes them from the top down), until
     * {@code visit} returns false; returns how many it visited. With the allocator's
     * last-freed-first order, a run whose peak is P pages never touches a frame but the first P
     * of this order: the stack's slots below its lowest top are never popped.
     */
    static long forEachUsable(List<Memslot> slots, long limitBytes, java.util.function.LongPredicate visit) {
        long end = frames(slots, limitBytes);
        long n = 0;
        for (Memslot s : slots) {
            if (s.readonly()) {
                continue;
            }
            for (long gfn = Math.max(s.baseGfn(), RESERVED_BELOW_GFN); gfn < Math.min(s.endGfn(), end); gfn++) {
                n++;
                if (!visit.test(gfn)) {
                    return n;
                }
            }
        }
        return n;
    }

    /** {@code alloc_page}: the most recently freed page, marked for {@code what}. Takes the zone lock. */
    long alloc(byte what) {
        zoneLock.lock();
        try {
            return allocLocked(what);
        } finally {
            zoneLock.unlock();
        }
    }

    private long allocLocked(byte what) {
        if (freeTop == 0) {
            throw new VmException("guest out of memory: all " + total + " pages in use; accepted a bigger VM or a smaller --scale");
        }
        int gfn = free[--freeTop];
        if (total - freeTop > peak) {
            peak = total - freeTop;
        }
        if ((what == ANON || what == FILE) && lastUse[gfn] == PAGE_TABLE) {
            counters.ptPagesReusedAsData++;
        }
        if (what == ANON || what == FILE) {
            counters.dataPagesAllocated++;
        } else if (what == PAGE_TABLE) {
            counters.ptPagesAllocated++;
        }
        use[gfn] = what;
        MAP_COUNT.setVolatile(mapCount, gfn, 0);
        return gfn;
    }

    /** {@code free_page}. Takes the zone lock. */
    void free(long gfn) {
        zoneLock.lock();
        try {
            freeLocked(gfn);
        } finally {
            zoneLock.unlock();
        }
    }

    /**
     * {@code free_page} of a page {@link Kernel#allocPage} gave a foreign scenario; refused in one
     * line unless it is one (checked under the zone lock, so two frees of it cannot both pass).
     */
    void freeKernelPage(long gfn) {
        zoneLock.lock();
        try {
            if (gfn < 0 || gfn >= frames || use[(int) gfn] != KERNEL) {
                throw new VmException("gfn 0x" + Long.toHexString(gfn) + " was not allocated by allocPage: accepted only pages it returned");
            }
            freeLocked(gfn);
        } finally {
            zoneLock.unlock();
        }
    }

    private void freeLocked(long gfn) {
        int g = (int) gfn;
        if (use[g] == FREE || use[g] == RESERVED) {
            throw new IllegalStateException("guest kernel bug: freeing gfn 0x" + Long.toHexString(gfn) + " which is not allocated");
        }
        if (use[g] == PAGE_TABLE) {
            counters.ptPagesFreed++;
        }
        counters.pagesFreed++;
        lastUse[g] = use[g];
        use[g] = FREE;
        MAP_COUNT.setVolatile(mapCount, g, 0);
        free[freeTop++] = g;
    }

    /** {@code page_mapcount}. */
    int mapCount(long gfn) {
        return (int) MAP_COUNT.getVolatile(mapCount, (int) gfn);
    }

    /** One more pte maps the page ({@code page_add_*_rmap}). */
    void mapInc(long gfn) {
        MAP_COUNT.getAndAdd(mapCount, (int) gfn, 1);
    }

    /** One pte fewer maps the page ({@code page_remove_rmap}); returns the count left. */
    int mapDec(long gfn) {
        return (int) MAP_COUNT.getAndAdd(mapCount, (int) gfn, -1) - 1;
    }

    static String useName(byte use) {
        return switch (use) {
            case FREE -> "free";
            case RESERVED -> "reserved";
            case PAGE_TABLE -> "page table";
            case ANON -> "anonymous";
            case FILE -> "page cache";
            case ZERO -> "zero page";
            default -> "kernel";
        };
    }

    int freePages() {
        zoneLock.lock();
        try {
            return freeTop;
        } finally {
            zoneLock.unlock();
        }
    }

    /** The most pages allocated at once so far. */
    int peakPages() {
        zoneLock.lock();
        try {
            return peak;
        } finally {
            zoneLock.unlock();
        }
    }

    int totalPages() {
        return total;
    }

    /** Pages now used for {@code what}. */
    int count(byte what) {
        int n = 0;
        for (byte b : use) {
            if (b == what) {
                n++;
            }
        }
        return n;
    }
}
