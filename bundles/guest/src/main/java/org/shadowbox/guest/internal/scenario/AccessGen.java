package org.shadowbox.guest.internal.scenario;

import java.util.SplittableRandom;

import org.shadowbox.guest.internal.kernel.Area;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Task;

/**
 * A program's memory accesses with the locality real code has: fetches walk a text page and
 * jump now and then, mostly within a hot set; stack accesses stay near the top; heap accesses
 * cluster at the allocation frontier, which advances (growing the heap by brk) as the program
 * allocates, with reads scattered over what it allocated before; input files are read
 * sequentially; an anonymous arena, when mapped, takes part of the heap traffic. One access per
 * {@link #step}; nothing allocated.
 */
final class AccessGen {
    private final Profile p;
    private int codePage;
    private int codeSlot;
    private int frontier = 1;
    private long heapOps;
    Area input;
    private int inputPage;
    private int inputOps;
    /** Set when the input file has been read to its end. */
    boolean inputDone;
    Area arena;

    AccessGen(Profile p) {
        this.p = p;
    }

    void step(Kernel k, Task t) {
        SplittableRandom r = t.rng;
        int x = r.nextInt(100);
        if (x < p.fetch()) {
            if (r.nextInt(8) == 0) {
                int pages = t.text.pages();
                codePage = r.nextInt(4) == 0 ? r.nextInt(pages) : r.nextInt(Math.min(p.hotText(), pages));
            }
            codeSlot = (codeSlot + 1) & 7;
            k.access(t, t.text, codePage, codeSlot, Kernel.FETCH);
            return;
        }
        x -= p.fetch();
        if (x < p.stack()) {
            Area s = t.stack;
            int page = s.pages() - 1 - (r.nextInt(8) == 0 ? r.nextInt(Math.min(4, s.pages())) : 0);
            k.access(t, s, page, r.nextInt(8), r.nextBoolean() ? Kernel.READ : Kernel.WRITE);
            return;
        }
        x -= p.stack();
        if (x < p.heap()) {
            heapStep(k, t, r);
            return;
        }
        x -= p.heap();
        if (x < p.data() || input == null) {
            k.access(t, t.data, r.nextInt(t.data.pages()), r.nextInt(8), r.nextInt(4) == 0 ? Kernel.WRITE : Kernel.READ);
            return;
        }
        k.access(t, input, inputPage, r.nextInt(8), Kernel.READ);
        if (++inputOps % 8 == 0 && ++inputPage == input.pages()) {
            inputPage = 0;
            inputDone = true;
        }
    }

    private void heapStep(Kernel k, Task t, SplittableRandom r) {
        if (arena != null && r.nextInt(4) == 0) {
            k.access(t, arena, r.nextInt(arena.pages()), r.nextInt(8), r.nextBoolean() ? Kernel.READ : Kernel.WRITE);
            return;
        }
        Area h = t.heap;
        if (++heapOps % p.allocEvery() == 0 && frontier < p.maxHeap()) {
            if (frontier == h.pages()) {
                k.brk(t, h, Math.min(h.pages() + 16, p.maxHeap()));
            }
            frontier++;
        }
        boolean recent = r.nextInt(3) != 0;
        int page = recent ? frontier - 1 - r.nextInt(Math.min(frontier, 4)) : r.nextInt(frontier);
        boolean write = recent ? r.nextInt(3) != 0 : r.nextInt(4) == 0;
        k.access(t, h, page, r.nextInt(8), write ? Kernel.WRITE : Kernel.READ);
    }

    /** The program has already touched {@code pages} heap pages (a forked child inherits them). */
    void setFrontier(int pages) {
        frontier = Math.max(1, pages);
    }

    /** Pages of heap touched so far. */
    int frontier() {
        return frontier;
    }
}
