package org.shadowbox.guest.internal.kernel;

/**
 * An address space ({@code struct mm_struct}): its pgd, its areas sorted by address, the
 * TLB generation ({@code tlb_gen}) that tells a vCPU switching back to it whether it missed a
 * flush while away, and its two locks:
 * <ul>
 * <li>{@link #mmapLock} ({@code mmap_lock}): its areas and its page tables' shape; held by every
 * system call that changes the address space (mmap, munmap, mprotect, brk, exec's layout,
 * fork's copy, exit's teardown) and by the page-fault handler. Linux takes it shared for a
 * fault; here processes are single-threaded (one vCPU runs an mm at a time), so a shared mode
 * would never be shared and it is one exclusive lock;</li>
 * <li>{@link #ptl} ({@code mm->page_table_lock}, the page-table lock, one per mm as before
 * Linux's split PTLs): held around every pte edit and every population of a missing table.
 * Always inside {@code mmap_lock}. Nothing that can sleep is called under it: a page or a table
 * is allocated and cleared before it is taken ({@code pte_alloc}, {@code do_anonymous_page}),
 * freed after it is dropped ({@code tlb_finish_mmu}).</li>
 * </ul>
 * Order, outermost first: a parent's {@code mmap_lock}, a fork child's {@code mmap_lock}
 * ({@code mmap_write_lock_nested}), a page lock ({@link PageCache}), {@code page_table_lock},
 * the zone lock; the MMU's {@code mmu_lock} is taken inside guest accesses, below all of them.
 */
final class Mm {
    final KLock mmapLock = new KLock("mmap_lock");
    final KLock ptl = new KLock("page_table_lock");
    final long pgd;
    Area[] areas = new Area[8];
    int nAreas;
    long tlbGen;
    /** Next mmap goes just below this. */
    long mmapCursor;

    Mm(long pgd, long mmapBase) {
        this.pgd = pgd;
        this.mmapCursor = mmapBase;
    }

    /** {@code find_vma}: the area containing {@code va}, or null. */
    Area find(long va) {
        for (int i = 0; i < nAreas; i++) {
            if (areas[i].contains(va)) {
                return areas[i];
            }
        }
        return null;
    }

    void insert(Area a) {
        if (nAreas == areas.length) {
            areas = java.util.Arrays.copyOf(areas, nAreas * 2);
        }
        int i = nAreas;
        while (i > 0 && areas[i - 1].start > a.start) {
            areas[i] = areas[i - 1];
            i--;
        }
        areas[i] = a;
        nAreas++;
    }

    void remove(Area a) {
        for (int i = 0; i < nAreas; i++) {
            if (areas[i] == a) {
                System.arraycopy(areas, i + 1, areas, i, nAreas - i - 1);
                areas[--nAreas] = null;
                return;
            }
        }
        throw new IllegalStateException("guest kernel bug: " + a + " is not in this address space");
    }

    /** End of the area below {@code a} (0 if none): the floor for freeing {@code a}'s tables. */
    long floorOf(Area a) {
        long floor = 0;
        for (int i = 0; i < nAreas; i++) {
            if (areas[i] != a && areas[i].end() <= a.start) {
                floor = Math.max(floor, areas[i].end());
            }
        }
        return floor;
    }

    /** Start of the area above {@code a} ({@code top} if none): the ceiling for freeing its tables. */
    long ceilingOf(Area a, long top) {
        long ceiling = top;
        for (int i = 0; i < nAreas; i++) {
            if (areas[i] != a && areas[i].start >= a.end()) {
                ceiling = Math.min(ceiling, areas[i].start);
            }
        }
        return ceiling;
    }
}
