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
 *
 * <p>Boot. Linux with {@code CONFIG_DEFERRED_STRUCT_PAGE_INIT} does not put every page on the
 * free lists at boot: the pages past a first part are initialised later, and the allocator
 * grows the zone on demand ({@code deferred_grow_zone}) when what is free runs out. So here:
 * the free list holds the pages freed so far, and when it is empty the allocator takes the next
 * page never handed out, in {@link #forEachUsable}'s order (the lowest first). That is the order
 * a list built whole at boot, lowest page on top, would give, so every run's pages, and every
 * count, are as they were; a fresh VM's boot no longer walks every frame of guest RAM on the
 * run's one thread.
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
    /** Pages freed and not yet handed out again, the last freed on top ({@code free[freeTop - 1]}). */
    private final int[] free;
    private int freeTop;
    /**
     * The usable ranges of frames, {@code [rangeStart[i], rangeEnd[i])}, in {@link #forEachUsable}'s
     * order, and the next frame never handed out: {@link #next} in range {@link #range}. Under the
     * zone lock.
     */
    private final long[] rangeStart, rangeEnd;
    private int range;
    private long next;
    /** Pages allocated now. */
    private int allocated;
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
        java.util.Arrays.fill(use, RESERVED);
        long[] starts = new long[slots.size()];
        long[] ends = new long[slots.size()];
        int n = 0;
        long usable = 0;
        for (Memslot s : slots) {
            long lo = Math.max(s.baseGfn(), RESERVED_BELOW_GFN);
            long hi = Math.min(s.endGfn(), end);
            if (s.readonly() || lo >= hi) {
                continue;
            }
            java.util.Arrays.fill(use, (int) lo, (int) hi, FREE);
            starts[n] = lo;
            ends[n++] = hi;
            usable += hi - lo;
        }
        rangeStart = java.util.Arrays.copyOf(starts, n);
        rangeEnd = java.util.Arrays.copyOf(ends, n);
        next = n > 0 ? rangeStart[0] : 0;
        total = (int) usable;
        free = new int[total];
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
        int gfn;
        if (freeTop > 0) {
            gfn = free[--freeTop];
        } else if (range < rangeEnd.length) {
            gfn = (int) next++; // deferred_grow_zone: the next page never handed out
            if (next == rangeEnd[range] && ++range < rangeEnd.length) {
                next = rangeStart[range];
            }
        } else {
            throw new VmException("guest out of memory: all " + total + " pages in use; accepted a bigger VM or a smaller --scale");
        }
        if (++allocated > peak) {
            peak = allocated;
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
        allocated--;
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
            return total - allocated;
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
