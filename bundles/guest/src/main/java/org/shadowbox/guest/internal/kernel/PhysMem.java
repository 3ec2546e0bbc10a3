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
 * <p>Per-CPU page lists ({@code struct per_cpu_pages}, {@code rmqueue_pcplist} and
 * {@code free_unref_page} in {@code mm/page_alloc.c}): each host thread that drives vCPUs has a
 * list of free pages in front of the zone's. It allocates from its own list and frees onto it;
 * an empty list takes {@link #batch} pages from the zone at once ({@code rmqueue_bulk}), and a
 * list past {@link #high} gives its {@code batch} oldest back ({@code free_pcppages_bulk}), with
 * Linux's sizes for the zone ({@link #zoneBatchSize}). So a page freed on one core is the next
 * that core allocates, still in its caches, and the zone lock is taken once per batch, not per
 * page. Where Shadowbox differs: Linux keeps a list per CPU, the model one per host thread, the
 * cache that a freed page's lines are in. With one host thread the single list is the top of
 * the zone's stack (a refill moves the zone's top pages to the list's bottom, a drain the list's
 * bottom pages back to the zone's top, both in order), so a one-thread run gets exactly the pages
 * it got before the lists, in the same order, and every count it gives stays the same.
 *
 * <p>Locking. A list, its pages' {@link #use}, {@link #lastUse} and map count on allocation and
 * free, and its {@link Counters.Alloc}, change under the list's lock ({@code pcp->lock}); the
 * zone's free stack under the zone lock ({@code zone->lock}), taken inside a list's lock (a
 * refill, a drain) or alone ({@link #drainAll}); both are leaves below every other guest lock,
 * and no guest access is made under them. Callers must not hold a page-table lock (Linux
 * allocates with {@code GFP_KERNEL} before it takes the PTL, never under it). A page's
 * {@code use} may be read without a lock by whoever maps the page (it cannot be freed meanwhile).
 * The map counts are atomic ({@code page->_mapcount} is an {@code atomic_t}): two address spaces
 * sharing a page copy-on-write change its count under two different page-table locks. The pages
 * in use and their peak are one atomic count ({@link InUse}).
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
    /** The zone's free pages, a stack (its top, {@code free[freeTop - 1]}, is handed out first). Under the zone lock. */
    private final int[] free;
    private int freeTop;
    private final int total;
    /** Pages a list takes from the zone when it is empty, and gives back when it passes {@link #high}. */
    final int batch;
    /** The most pages a list keeps. */
    final int high;
    /** One per host thread, by thread index. */
    private final PageList[] lists;
    /** The host thread each list belongs to (written by that thread, {@link #bind}); a thread not here uses list 0. */
    private final Thread[] owners;
    private final InUse inUse = new InUse();

    /** A host thread's free pages ({@code struct per_cpu_pages}): a stack, its top handed out first. */
    private static final class PageList {
        final KLock lock = new KLock("pcp lock");
        final int[] pages;
        int count;
        final Counters.Alloc counts;
        @SuppressWarnings("unused")
        private long q0, q1, q2, q3, q4, q5, q6, q7; // the owner writes count on every allocation and free

        PageList(int capacity, Counters.Alloc counts) {
            this.pages = new int[capacity];
            this.counts = counts;
        }
    }

    /** Pages allocated now and the most at once, padded: every allocation and free of either thread writes it. */
    private static final class InUse {
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6, p7;
        volatile int now;
        volatile int peak;
        @SuppressWarnings("unused")
        private long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    private static final VarHandle NOW, PEAK;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            NOW = l.findVarHandle(InUse.class, "now", int.class);
            PEAK = l.findVarHandle(InUse.class, "peak", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Pages of every memslot below {@code limitBytes} (and below 4 GiB of frames), minus the
     * reserved first 1 MiB, with a page list for each of {@code threads} host threads, whose
     * counts go to {@code counters}' {@link Counters#alloc} entry of the same index.
     */
    PhysMem(List<Memslot> slots, long limitBytes, Counters counters, int threads) {
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
        high = 6 * zoneBatchSize(total); // pageset_set_batch: high 6 x batch, batch at least 1
        batch = Math.max(1, zoneBatchSize(total));
        lists = new PageList[threads];
        for (int i = 0; i < threads; i++) {
            lists[i] = new PageList(high + 1, counters.alloc[i]);
        }
        owners = new Thread[threads];
    }

    /**
     * Linux's {@code zone_batchsize()} (4.x) for a zone of {@code pages} pages: a 1024th of the
     * zone, at most 512 KiB, divided by four, then one less than a power of two (1.5 times it,
     * rounded down), at least 1. A list keeps at most six batches ({@code pageset_set_batch}).
     * A zone of 512 MiB or more gets 31; 256 MiB, 15.
     */
    static int zoneBatchSize(int pages) {
        int b = pages / 1024;
        if ((long) b * 4096 > 512 * 1024) {
            b = 512 * 1024 / 4096;
        }
        b /= 4;
        if (b < 1) {
            b = 1;
        }
        return Integer.highestOneBit(b + b / 2) - 1; // 0 for the smallest zones: high 0, batch 1, as Linux
    }

    /**
     * Pages beyond a run's peak that its allocations can reach in the order {@link #forEachUsable}
     * gives: what {@code threads} lists hold at most ({@code high} + 1 each) when more than one
     * thread allocates; none with one, whose single list is the top of the zone's stack.
     */
    static long listSlack(long usablePages, int threads) {
        return threads <= 1 ? 0 : threads * (6L * zoneBatchSize((int) Math.min(usablePages, Integer.MAX_VALUE)) + 1);
    }

    /** The calling host thread drives the vCPUs of index {@code thread}: it allocates and frees through that list. */
    void bind(int thread) {
        owners[thread] = Thread.currentThread();
    }

    private PageList list() {
        if (lists.length == 1) {
            return lists[0];
        }
        Thread me = Thread.currentThread();
        for (int i = 1; i < owners.length; i++) {
            if (owners[i] == me) {
                return lists[i];
            }
        }
        return lists[0];
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
     * last-freed-first order, a run on one host thread whose peak is P pages never touches a frame
     * but the first P of this order: the stack's slots below its lowest top are never popped. With
     * more threads, the pages their lists hold may take it {@link #listSlack} further.
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

    /**
     * {@code alloc_page}: the most recently freed page of the calling thread's list, marked for
     * {@code what}; an empty list is refilled from the zone first. Takes the list's lock.
     */
    long alloc(byte what) {
        for (int attempt = 0;; attempt++) {
            PageList l = list();
            l.lock.lock();
            try {
                if (l.count > 0 || refill(l)) {
                    int gfn = l.pages[--l.count];
                    allocated(l.counts, gfn, what);
                    return gfn;
                }
            } finally {
                l.lock.unlock();
            }
            if (attempt == 1 || lists.length == 1) {
                throw new VmException("guest out of memory: all " + total + " pages in use; accepted a bigger VM or a smaller --scale");
            }
            drainAll(); // other threads' lists may hold free pages (drain_all_pages), then once more
        }
    }

    /** {@code rmqueue_bulk}: moves up to a batch of the zone's top pages to the bottom of the empty list {@code l}, in order. */
    private boolean refill(PageList l) {
        zoneLock.lock();
        try {
            int n = Math.min(batch, freeTop);
            System.arraycopy(free, freeTop - n, l.pages, 0, n);
            freeTop -= n;
            l.count = n;
            return n > 0;
        } finally {
            zoneLock.unlock();
        }
    }

    /** {@code free_pcppages_bulk}: gives the {@code n} oldest pages of {@code l} (its bottom) back to the zone's top, in order. */
    private void drain(PageList l, int n) {
        zoneLock.lock();
        try {
            System.arraycopy(l.pages, 0, free, freeTop, n);
            freeTop += n;
        } finally {
            zoneLock.unlock();
        }
        System.arraycopy(l.pages, n, l.pages, 0, l.count - n);
        l.count -= n;
    }

    /** {@code drain_all_pages}: every list's pages back to the zone, one list at a time. */
    private void drainAll() {
        for (PageList l : lists) {
            l.lock.lock();
            try {
                drain(l, l.count);
            } finally {
                l.lock.unlock();
            }
        }
    }

    private void allocated(Counters.Alloc c, int gfn, byte what) {
        if ((what == ANON || what == FILE) && lastUse[gfn] == PAGE_TABLE) {
            c.ptPagesReusedAsData++;
        }
        if (what == ANON || what == FILE) {
            c.dataPagesAllocated++;
        } else if (what == PAGE_TABLE) {
            c.ptPagesAllocated++;
        }
        use[gfn] = what;
        MAP_COUNT.setVolatile(mapCount, gfn, 0);
        int now = (int) NOW.getAndAdd(inUse, 1) + 1;
        for (int p = inUse.peak; now > p; p = inUse.peak) {
            if (PEAK.compareAndSet(inUse, p, now)) {
                break;
            }
        }
    }

    /** {@code free_page}: onto the calling thread's list, which gives a batch back to the zone past {@link #high}. Takes the list's lock. */
    void free(long gfn) {
        PageList l = list();
        l.lock.lock();
        try {
            int g = (int) gfn;
            if (use[g] == FREE || use[g] == RESERVED) {
                throw new IllegalStateException("guest kernel bug: freeing gfn 0x" + Long.toHexString(gfn) + " which is not allocated");
            }
            freed(l, g);
        } finally {
            l.lock.unlock();
        }
    }

    /**
     * {@code free_page} of a page {@link Kernel#allocPage} gave a foreign scenario; refused in one
     * line unless it is one (checked and marked free under the zone lock, so two frees of it
     * cannot both pass, whichever threads they come from).
     */
    void freeKernelPage(long gfn) {
        PageList l = list();
        l.lock.lock();
        try {
            zoneLock.lock();
            try {
                if (gfn < 0 || gfn >= frames || use[(int) gfn] != KERNEL) {
                    throw new VmException("gfn 0x" + Long.toHexString(gfn) + " was not allocated by allocPage: accepted only pages it returned");
                }
                lastUse[(int) gfn] = KERNEL;
                use[(int) gfn] = FREE;
            } finally {
                zoneLock.unlock();
            }
            freed(l, (int) gfn);
        } finally {
            l.lock.unlock();
        }
    }

    /** Under {@code l}'s lock: {@code g} is free now, on top of {@code l}. */
    private void freed(PageList l, int g) {
        Counters.Alloc c = l.counts;
        if (use[g] == PAGE_TABLE) {
            c.ptPagesFreed++;
        }
        c.pagesFreed++;
        if (use[g] != FREE) { // freeKernelPage marked it already
            lastUse[g] = use[g];
            use[g] = FREE;
        }
        MAP_COUNT.setVolatile(mapCount, g, 0);
        NOW.getAndAdd(inUse, -1);
        l.pages[l.count++] = g;
        if (l.count > high) {
            drain(l, batch);
        }
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

    /** Free pages: the zone's and every list's. Exact when no other thread allocates or frees. */
    int freePages() {
        int n;
        zoneLock.lock();
        try {
            n = freeTop;
        } finally {
            zoneLock.unlock();
        }
        for (PageList l : lists) {
            l.lock.lock();
            try {
                n += l.count;
            } finally {
                l.lock.unlock();
            }
        }
        return n;
    }

    /** The most pages allocated at once so far. */
    int peakPages() {
        return inUse.peak;
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
