package org.shadowbox.guest.internal.scenario;

/**
 * Upper bounds on the guest frames a built-in scenario's processes hold, from their parameters
 * ({@link org.shadowbox.guest.Scenario#guestPages}). An allocated frame is a page-cache page
 * (never taken back: bounded by the pages of every file the scenario creates), the zero page,
 * a kernel table, or a page of a live process: an anonymous page some pte of it maps (within
 * its areas: at most their anonymous pages, copy-on-write copies included) or one of its page
 * tables. An exited process has given its pages back before it is a zombie ({@code exit_mm}).
 * {@code PageBoundTest} runs every scenario and holds the measured peak to these bounds.
 */
final class PageBound {
    /** Areas a program has at most: text, data, heap, stack, an input file, an arena, the RELRO pages. */
    static final int AREAS = 7;

    private PageBound() {
    }

    /**
     * Page tables of an address space whose {@code areas} areas span {@code pages} pages: the
     * pgd with PAE's 3 preallocated PMDs (4), and per area one leaf table per 512 pages plus one
     * for its unaligned ends and two tables at each of the two levels above (6), with no sharing
     * assumed between areas.
     */
    static long tables(int areas, long pages) {
        return 4 + 6L * areas + (pages + 511) / 512;
    }

    /**
     * A process laid out from an image (text, data, heap, stack pages) that grows its heap by brk
     * to {@code maxHeap}, maps an {@code arena} and {@code input} pages of a file, and (when
     * {@code relro}) the dynamic linker's two RELRO pages: its anonymous pages (data copied on
     * write, heap, stack, arena, RELRO) and its page tables. Text and input are page-cache pages.
     */
    static long process(int text, int data, int heap, int stack, int maxHeap, int arena, int input, boolean relro) {
        long h = Math.max(heap, maxHeap);
        long anon = data + h + stack + arena + (relro ? 2 : 0);
        return anon + tables(AREAS, text + data + h + stack + arena + input + 2);
    }
}
