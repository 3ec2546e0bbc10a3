package org.shadowbox.guest.internal.kernel;

import java.util.List;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.VmException;

/**
 * Guest physical pages: the page allocator and the per-page state Linux keeps in
 * {@code struct page} (what a page is used for, how many ptes map it). Free pages are handed
 * out last-freed-first, as the per-CPU page lists do, so a page-table page freed by one process
 * comes back as the next process's data page: the reuse that write-flood detection exists for.
 * The first 1 MiB is reserved (BIOS and real-mode area, as Linux reserves it).
 */
final class PhysMem {
    static final byte FREE = 0, RESERVED = 1, PAGE_TABLE = 2, ANON = 3, FILE = 4, ZERO = 5, KERNEL = 6;
    private static final long RESERVED_BELOW_GFN = 0x100;

    final int frames;
    /** What each gfn holds now ({@link #FREE} ... {@link #KERNEL}). */
    final byte[] use;
    /** What each gfn held before it was last freed (FREE if never used). */
    final byte[] lastUse;
    /** ptes mapping the page ({@code page_mapcount}). */
    final int[] mapCount;
    /**
     * Copy-on-write copies being made from the page (a page-cache page) with the kernel lock
     * dropped: the page lock {@code do_cow_fault} holds across {@code copy_user_highpage}, taken
     * shared here (copies may run together; {@code write()} to the page waits for them on
     * {@link Kernel#pageUnlocked}). Changed under the kernel lock.
     */
    final int[] copiers;
    private final int[] free;
    private int freeTop;
    private final int total;
    private final Counters counters;

    /** Pages of every memslot below {@code limitBytes} (and below 4 GiB of frames), minus the reserved first 1 MiB. */
    PhysMem(List<Memslot> slots, long limitBytes, Counters counters) {
        this.counters = counters;
        long end = 0;
        for (Memslot s : slots) {
            if (!s.readonly()) {
                end = Math.max(end, s.endGfn());
            }
        }
        end = Math.min(end, Math.min(limitBytes >>> 12, 1L << 20));
        frames = (int) end;
        use = new byte[frames];
        lastUse = new byte[frames];
        mapCount = new int[frames];
        copiers = new int[frames];
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

    /** {@code alloc_page}: the most recently freed page, marked for {@code what}. */
    long alloc(byte what) {
        if (freeTop == 0) {
            throw new VmException("guest out of memory: all " + total + " pages in use; accepted a bigger VM or a smaller --scale");
        }
        int gfn = free[--freeTop];
        if ((what == ANON || what == FILE) && lastUse[gfn] == PAGE_TABLE) {
            counters.ptPagesReusedAsData++;
        }
        if (what == ANON || what == FILE) {
            counters.dataPagesAllocated++;
        } else if (what == PAGE_TABLE) {
            counters.ptPagesAllocated++;
        }
        use[gfn] = what;
        mapCount[gfn] = 0;
        return gfn;
    }

    /** {@code free_page}. */
    void free(long gfn) {
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
        mapCount[g] = 0;
        free[freeTop++] = g;
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
        return freeTop;
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
