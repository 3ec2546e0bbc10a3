package org.shadowbox.guest.internal.kernel;

/**
 * Address-space operations (Linux's {@code mm/mmap.c}, {@code mm/mprotect.c} and the teardown
 * and fork paths of {@code mm/memory.c}): exec's layout, mmap, munmap, mprotect, brk, fork's
 * {@code dup_mmap}/{@code copy_page_range}, and {@code exit_mmap}. Every pte change is a guest
 * write; pages and tables are freed only after the TLB flush ({@code mmu_gather}). Each runs
 * with the address space's {@code mmap_lock} held (the caller takes it), on the vCPU running the
 * process whose address space it is (under SMP the only vCPU that has it loaded); pte edits are
 * made under its {@code page_table_lock}, pages and tables freed after that is dropped
 * ({@link Mm} gives the order). The scratch stacks and cursors are per vCPU.
 */
final class MmOps {
    /** Guard gap left between mmaps. */
    private static final long GUARD = 4096;
    private final Kernel k;
    private final PageTables tables;
    private final PageTableFormat f;
    private final Counters counters;
    /** Per vCPU: pages and tables to free after the flush ({@code mmu_gather}), and the walk cursors. */
    private final LongStack[] freedPages, freedTables;
    private final PtCursor[] cursors, childCursors;

    MmOps(Kernel k) {
        this.k = k;
        this.tables = k.tables;
        this.f = k.f;
        this.counters = k.counters;
        int n = k.cpus.length;
        freedPages = new LongStack[n];
        freedTables = new LongStack[n];
        cursors = new PtCursor[n];
        childCursors = new PtCursor[n];
        for (int v = 0; v < n; v++) {
            freedPages[v] = new LongStack();
            freedTables[v] = new LongStack();
            cursors[v] = new PtCursor(tables);
            childCursors[v] = new PtCursor(tables);
        }
    }

    /** exec's layout ({@code load_elf_binary}): text, data after it, the heap after that, the stack at the top. */
    void setupImage(Task t, Image img) {
        Mm mm = t.mm;
        mm.mmapLock.assertHeld();
        Area text = new Area(f.textBase(), img.textPages(), Area.READ | Area.EXEC, img.textFile(), 0);
        Area data = new Area(text.end(), img.dataPages(), Area.READ | Area.WRITE, img.dataFile(), 0);
        Area heap = new Area(data.end(), img.heapPages(), Area.READ | Area.WRITE, Area.ANON, 0);
        Area stack = new Area(f.stackTop() - ((long) img.stackPages() << 12), img.stackPages(),
                Area.READ | Area.WRITE, Area.ANON, 0);
        mm.insert(text);
        mm.insert(data);
        mm.insert(heap);
        mm.insert(stack);
        t.text = text;
        t.data = data;
        t.heap = heap;
        t.stack = stack;
    }

    /** {@code mmap} at the highest free gap below the mmap base ({@code get_unmapped_area} top-down). */
    Area mmap(Task t, int pages, int prot, int file, long fileOffset) {
        Mm mm = t.mm;
        mm.mmapLock.assertHeld();
        long size = (long) pages << 12;
        long top = f.mmapBase();
        for (int i = mm.nAreas - 1; i >= 0; i--) {
            Area a = mm.areas[i];
            if (a.start >= top) {
                continue;
            }
            if (a.end() + GUARD <= top - size) {
                break;
            }
            top = a.start - GUARD;
        }
        Area a = new Area(top - size, pages, prot, file, fileOffset);
        mm.insert(a);
        counters.cpu[t.vcpu].mmaps++;
        return a;
    }

    /** {@code brk} growing the heap: the new pages are demand-faulted. */
    void brk(Task t, Area heap, int pages) {
        t.mm.mmapLock.assertHeld();
        if (pages > heap.pages) {
            heap.grow(pages);
            counters.cpu[t.vcpu].brks++;
        }
    }

    /** {@code munmap} of a whole area: zap, free the tables no other area needs, flush, free. */
    void munmap(Task t, Area a) {
        int v = t.vcpu;
        Mm mm = t.mm;
        mm.mmapLock.assertHeld();
        mm.ptl.lock();
        try {
            int zapped = zap(v, mm, a);
            long floor = mm.floorOf(a);
            long ceiling = mm.ceilingOf(a, f.userTop());
            mm.remove(a);
            tables.freeRange(v, mm.pgd, f.levels(), a.start, a.end(), floor, ceiling, freedTables[v]);
            if (zapped > 0 || freedTables[v].size() > 0) {
                k.flushRange(v, mm, a.start, a.pages);
            }
        } finally {
            mm.ptl.unlock();
        }
        freeAll(v);
        counters.cpu[v].munmaps++;
    }

    /**
     * {@code split_vma}: area {@code a} of {@code t}'s address space split before its page
     * {@code at}; returns the upper part (already in the address space). Ptes and tables stay as
     * they are: they map the same pages from either part.
     */
    Area split(Task t, Area a, int at) {
        t.mm.mmapLock.assertHeld(); // split_vma: the area tree changes under mmap_lock (no pte changes)
        Area b = a.splitOff(at);
        t.mm.insert(b);
        return b;
    }

    /** {@code mprotect} of a whole area: present ptes lose write (or change NX); adding write is lazy. */
    void mprotect(Task t, Area a, int prot) {
        int v = t.vcpu;
        Mm mm = t.mm;
        mm.mmapLock.assertHeld();
        PtCursor cursor = cursors[v].reset();
        int changed = 0;
        mm.ptl.lock(); // no table is allocated below (the walk does not allocate)
        try {
            changed = changeProtection(v, mm, a, prot, cursor);
            a.prot = prot;
            if (changed > 0) {
                k.flushRange(v, mm, a.start, a.pages);
            }
        } finally {
            mm.ptl.unlock();
        }
        counters.cpu[v].mprotects++;
    }

    /** {@code change_pte_range}: page-table lock held. */
    private int changeProtection(int v, Mm mm, Area a, int prot, PtCursor cursor) {
        int changed = 0;
        for (int i = 0; i < a.pages; i++) {
            if (a.frame[i] < 0) {
                continue;
            }
            long va = a.start + ((long) i << 12);
            long pt = cursor.table(v, mm, va, false);
            int idx = f.index(va, 1);
            long pte = checkedPte(v, pt, idx, a, i);
            long n = pte;
            if ((prot & Area.WRITE) == 0) {
                n &= ~PageTableFormat.RW;
            }
            if (f.hasNx()) {
                n = (prot & Area.EXEC) != 0 ? n & ~PageTableFormat.NX : n | PageTableFormat.NX;
            }
            if (n != pte) {
                tables.set(v, pt, idx, 1, n);
                changed++;
            }
        }
        return changed;
    }

    /**
     * {@code dup_mmap}: the child's areas, and for areas that may hold anonymous pages the ptes,
     * write-protected in both ({@code copy_present_pte}); file areas without anonymous pages are
     * left for the child to fault in. The parent's TLB is flushed if it lost write access.
     * The parent's {@code mmap_lock} held by the caller; the child's is taken here, nested
     * ({@code mmap_write_lock_nested}). Each pte is copied as {@code copy_pte_range} does: the
     * child's table allocated first with no page-table lock held, then the parent's pte
     * write-protected under the parent's page-table lock and the child's set under the child's.
     */
    Mm dupMmap(Task parent, Task child) {
        int v = parent.vcpu;
        Mm pm = parent.mm;
        pm.mmapLock.assertHeld();
        Mm cm = new Mm(tables.pgdAlloc(v, k.kernelPgd), f.mmapBase());
        cm.mmapLock.lock();
        try {
            return copyMm(parent, child, v, pm, cm);
        } finally {
            cm.mmapLock.unlock();
        }
    }

    private Mm copyMm(Task parent, Task child, int v, Mm pm, Mm cm) {
        PtCursor cursor = cursors[v].reset();
        PtCursor childCursor = childCursors[v].reset();
        int protectedPtes = 0;
        for (int ai = 0; ai < pm.nAreas; ai++) {
            Area pa = pm.areas[ai];
            Area ca = pa.copyForFork();
            cm.insert(ca);
            if (!pa.anonVma) {
                continue;
            }
            for (int i = 0; i < pa.pages; i++) {
                int g = pa.frame[i];
                if (g < 0) {
                    continue;
                }
                long va = pa.start + ((long) i << 12);
                long ppt = cursor.table(v, pm, va, false);
                int idx = f.index(va, 1);
                long pte;
                pm.ptl.lock();
                try {
                    pte = checkedPte(v, ppt, idx, pa, i);
                    if (pa.writable() && PageTableFormat.writable(pte)) {
                        pte &= ~PageTableFormat.RW;
                        tables.set(v, ppt, idx, 1, pte);
                        protectedPtes++;
                    }
                } finally {
                    pm.ptl.unlock();
                }
                long cpt = childCursor.table(v, cm, va, true);
                cm.ptl.lock();
                try {
                    tables.set(v, cpt, idx, 1, pte & ~PageTableFormat.A);
                    ca.frame[i] = g;
                    if (g != k.zeroPage) {
                        k.phys.mapInc(g);
                    }
                } finally {
                    cm.ptl.unlock();
                }
            }
        }
        if (parent.text != null) {
            child.text = cm.find(parent.text.start);
            child.data = cm.find(parent.data.start);
            child.heap = cm.find(parent.heap.start);
            child.stack = cm.find(parent.stack.start);
        }
        if (protectedPtes > 0) {
            k.flushRange(v, pm, 0, Integer.MAX_VALUE); // flush_tlb_mm
        }
        return cm;
    }

    /**
     * {@code mmput} of the last user: vCPUs still holding the mm lazily are moved to the
     * kernel's pgd ({@code leave_mm}; single-threaded only, under SMP none can hold it), then {@code exit_mmap} (zap every area, free every user
     * table, flush if loaded here, free), then the pgd goes. Takes the mm's {@code mmap_lock}
     * (no one else can: its last user is leaving), its page-table lock around the teardown.
     */
    void releaseMm(int v, Mm mm) {
        mm.mmapLock.lock();
        try {
            exitMmap(v, mm);
        } finally {
            mm.mmapLock.unlock();
        }
        freeAll(v);
        tables.pgdFree(v, mm.pgd);
    }

    private void exitMmap(int v, Mm mm) {
        for (int w = 0; w < k.loadedMm.length; w++) {
            if (w != v && k.loadedMm[w] == mm) {
                if (k.smp()) {
                    // Under SMP a vCPU is only ever driven by its own thread, and the rule that a
                    // process takes its mm with it when it leaves a vCPU means none may hold it here.
                    throw new IllegalStateException("guest kernel bug: vCPU " + w + " still has the mm of a process that left it loaded");
                }
                k.writeCr3(w, k.kernelPgd);
                k.loadedMm[w] = k.initMm;
            }
        }
        mm.ptl.lock();
        try {
            for (int ai = 0; ai < mm.nAreas; ai++) {
                zap(v, mm, mm.areas[ai]);
            }
            // free_pgtables: area by area, each up to the next area's start (every area is going).
            for (int ai = 0; ai < mm.nAreas; ai++) {
                Area a = mm.areas[ai];
                long ceiling = ai + 1 < mm.nAreas ? mm.areas[ai + 1].start : f.userTop();
                tables.freeRange(v, mm.pgd, f.levels(), a.start, a.end(), 0, ceiling, freedTables[v]);
            }
            if (k.loadedMm[v] == mm) {
                k.flushRange(v, mm, 0, Integer.MAX_VALUE);
                k.writeCr3(v, k.kernelPgd);
                k.loadedMm[v] = k.initMm;
            }
        } finally {
            mm.ptl.unlock();
        }
    }

    /** {@code zap_pte_range} over an area: clears every present pte, drops the page references. Page-table lock held. */
    private int zap(int v, Mm mm, Area a) {
        mm.ptl.assertHeld();
        PtCursor cursor = cursors[v].reset();
        int n = 0;
        for (int i = 0; i < a.pages; i++) {
            int g = a.frame[i];
            if (g < 0) {
                continue;
            }
            long va = a.start + ((long) i << 12);
            long pt = cursor.table(v, mm, va, false);
            int idx = f.index(va, 1);
            checkedPte(v, pt, idx, a, i);
            tables.clear(v, pt, idx, 1);
            a.frame[i] = -1;
            dropRef(v, g);
            n++;
        }
        return n;
    }

    /** Reads a pte the kernel's bookkeeping says is present and checks that it maps what it should. */
    private long checkedPte(int v, long pt, int idx, Area a, int page) {
        long pte = pt < 0 ? 0 : tables.read(v, pt, idx);
        if (!PageTableFormat.present(pte) || f.frame(pte) != a.frame[page]) {
            throw new GuestCorruption("pte of page " + page + " of " + a + " reads 0x" + Long.toHexString(pte)
                    + ", the kernel wrote gfn 0x" + Integer.toHexString(a.frame[page]));
        }
        return pte;
    }

    /** {@code page_remove_rmap}; the page goes on the vCPU's list to free after the flush when no pte maps it. */
    private void dropRef(int v, int g) {
        if (g == k.zeroPage) {
            return;
        }
        int c = k.phys.mapDec(g);
        if (c < 0) {
            throw new IllegalStateException("guest kernel bug: gfn 0x" + Integer.toHexString(g) + " unmapped more often than mapped");
        }
        if (c == 0 && k.phys.use[g] == PhysMem.ANON) {
            freedPages[v].push(g);
        }
    }

    /** {@code tlb_finish_mmu}: frees what the vCPU's last operation gathered. After the flush, no page-table lock held. */
    private void freeAll(int v) {
        LongStack pages = freedPages[v];
        LongStack tabs = freedTables[v];
        for (int i = 0; i < pages.size(); i++) {
            k.phys.free(pages.get(i));
        }
        for (int i = 0; i < tabs.size(); i++) {
            k.phys.free(tabs.get(i));
        }
        pages.clear();
        tabs.clear();
    }
}
