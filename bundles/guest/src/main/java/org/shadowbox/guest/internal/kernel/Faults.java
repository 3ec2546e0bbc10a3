package org.shadowbox.guest.internal.kernel;

import org.shadowbox.mmu.GuestCpu;

/**
 * User accesses and the guest's page-fault handler ({@code handle_mm_fault} in
 * {@code mm/memory.c}): {@code do_anonymous_page} (the zero page on a read, a zeroed page on a
 * write), {@code do_read_fault}/{@code do_cow_fault} for file pages, {@code do_wp_page} (reuse
 * when the process alone maps the page, else copy, with {@code ptep_clear_flush}). Every
 * completed access is checked: it must reach the page the kernel's bookkeeping says, and a read
 * must return what the guest last stored there.
 */
final class Faults {
    static final int READ = 0, WRITE = 1, FETCH = 2;
    private static final int MAX_TRIES = 4;
    private final Kernel k;
    private final PageTables tables;
    private final PageTableFormat f;
    private final PhysMem phys;
    private final MemoryImage image;
    private final KernelMemory km;
    private final Counters counters;

    Faults(Kernel k) {
        this.k = k;
        this.tables = k.tables;
        this.f = k.f;
        this.phys = k.phys;
        this.image = k.image;
        this.km = k.km;
        this.counters = k.counters;
    }

    /**
     * One user access of {@code t} on its vCPU. Takes no lock: the area, its frames and the
     * pages it writes are this process's alone, and the pages it only reads (shared
     * copy-on-write, zero or page-cache pages) do not change while it maps them. A fault is
     * handled under the process's {@code mmap_lock} ({@link #handleFault}).
     */
    void access(Task t, Area a, int page, int slot, int kind) {
        GuestCpu cpu = k.cpus[t.vcpu];
        Counters.Cpu mine = counters.cpu[t.vcpu];
        long va = a.start + ((long) page << 12) + (long) slot * MemoryImage.SLOT_BYTES;
        long value = kind == WRITE ? t.rng.nextLong() : 0;
        t.slice++;
        for (int tries = 0;; tries++) {
            mine.userAccesses++;
            boolean ok = kind == READ ? cpu.read(va, 8, true)
                    : kind == WRITE ? cpu.write(va, value, 8, true) : cpu.fetch(va, 8, true);
            if (ok) {
                break;
            }
            if (cpu.exception() != GuestCpu.PAGE_FAULT || tries == MAX_TRIES) {
                throw new GuestCorruption(t + " " + kindName(kind) + " at gva 0x" + Long.toHexString(va)
                        + " still fails after " + tries + " faults handled (exception " + cpu.exception()
                        + ", error code 0x" + Integer.toHexString(cpu.errorCode()) + ")");
            }
            handleFault(t, va, cpu.errorCode());
        }
        int g = a.frame[page];
        if (g < 0 || (cpu.gpa() >>> 12) != g) {
            throw new GuestCorruption(t + " " + kindName(kind) + " at gva 0x" + Long.toHexString(va) + " reached gpa 0x"
                    + Long.toHexString(cpu.gpa()) + ", its pte maps gfn 0x" + Integer.toHexString(g));
        }
        if (kind == WRITE) {
            if (phys.use[g] != PhysMem.ANON || phys.mapCount(g) != 1) {
                // Copy-on-write isolation: a private write may land only on an anonymous page
                // mapped by this pte alone. A stale writable translation (a missed flush after
                // fork or mprotect) lands elsewhere, and is caught here.
                throw new GuestCorruption(t + " write at gva 0x" + Long.toHexString(va) + " completed on gfn 0x"
                        + Integer.toHexString(g) + " (" + PhysMem.useName(phys.use[g]) + ", mapped " + phys.mapCount(g)
                        + " times) without a copy-on-write fault");
            }
            image.set(g, slot, value);
        } else if (cpu.value() != image.get(g, slot)) {
            throw new GuestCorruption(t + " " + kindName(kind) + " at gva 0x" + Long.toHexString(va) + " (gpa 0x"
                    + Long.toHexString(cpu.gpa()) + ") read 0x" + Long.toHexString(cpu.value()) + ", the guest stored 0x"
                    + Long.toHexString(image.get(g, slot)));
        }
    }

    /**
     * {@code handle_mm_fault} for a user fault of {@code t} at {@code va} with error code
     * {@code ec}, under {@code t}'s {@code mmap_lock} (taken here; the caller holds no guest lock
     * but possibly a page lock it must not: see {@link Kernel#writeFile}). As in Linux: the pte is
     * read without the page-table lock ({@code ptep_get_lockless}); a new page is allocated and
     * cleared or copied with no page-table lock held; the pte is installed under it after a
     * check that nothing changed meanwhile ({@code pte_same}, here against the kernel's own record
     * of the pte, {@link Area#frame}, which is not a guest access); a page that lost its last
     * mapping is freed after the lock is dropped.
     */
    void handleFault(Task t, long va, int ec) {
        Mm mm = t.mm;
        mm.mmapLock.lock();
        try {
            handleMmFault(t, mm, va, ec);
        } finally {
            mm.mmapLock.unlock();
        }
    }

    private void handleMmFault(Task t, Mm mm, long va, int ec) {
        int v = t.vcpu;
        Counters.Cpu mine = counters.cpu[v];
        mine.pageFaults++;
        Area a = mm.find(va);
        boolean write = (ec & 2) != 0;
        boolean fetch = (ec & 16) != 0;
        if (a == null || (write && !a.writable()) || (fetch && !a.executable())) {
            throw new IllegalStateException("guest program bug: " + t + " faulted at 0x" + Long.toHexString(va)
                    + " error code 0x" + Integer.toHexString(ec) + " outside its rights (" + a + ")");
        }
        int page = (int) ((va - a.start) >>> 12);
        long pageVa = va & ~0xfffL;
        long pt = tables.pteTable(v, mm, va, true);
        int idx = f.index(va, 1);
        long pte = tables.read(v, pt, idx);
        if (!PageTableFormat.present(pte)) {
            if (a.frame[page] >= 0) {
                throw new GuestCorruption("pte of 0x" + Long.toHexString(pageVa) + " reads not present, the kernel mapped gfn 0x"
                        + Integer.toHexString(a.frame[page]));
            }
            if (a.file == Area.ANON) {
                if (!write) {
                    map(v, mm, pt, idx, a, page, -1, k.zeroPage, false, false);
                    mine.zeroPageFaults++;
                } else {
                    long n = phys.alloc(PhysMem.ANON);
                    preparePrivate(v, mm, -1, n);
                    map(v, mm, pt, idx, a, page, -1, n, true, true);
                    mine.anonFaults++;
                }
                return;
            }
            long cached = k.cache.get(v, a.file, a.fileOffset + page);
            if (write) {
                long n = phys.alloc(PhysMem.ANON);
                k.cache.lockPageShared(cached); // do_cow_fault: the source's page lock across the copy
                try {
                    preparePrivate(v, mm, cached, n);
                } finally {
                    k.cache.unlockPageShared(cached);
                }
                map(v, mm, pt, idx, a, page, -1, n, true, true);
                a.anonVma = true;
                mine.cowFaults++;
            } else {
                map(v, mm, pt, idx, a, page, -1, cached, false, false);
                mine.fileFaults++;
            }
            return;
        }
        long g = f.frame(pte);
        if (a.frame[page] != g) {
            throw new GuestCorruption("pte of 0x" + Long.toHexString(pageVa) + " maps gfn 0x" + Long.toHexString(g)
                    + ", the kernel mapped gfn 0x" + Integer.toHexString(a.frame[page]));
        }
        if (!write || PageTableFormat.writable(pte)) {
            mine.spuriousFaults++; // the tables allow it: nothing to fix (spurious_fault)
            return;
        }
        if (g != k.zeroPage && phys.use[(int) g] == PhysMem.ANON && phys.mapCount(g) == 1) {
            mm.ptl.lock();
            try {
                tables.set(v, pt, idx, 1, pte | PageTableFormat.RW | PageTableFormat.D | PageTableFormat.A);
            } finally {
                mm.ptl.unlock();
            }
            mine.reuseFaults++; // wp_page_reuse: an upgrade, no flush on x86
            return;
        }
        long n = phys.alloc(PhysMem.ANON);
        preparePrivate(v, mm, g == k.zeroPage ? -1 : g, n);
        boolean lastMap;
        mm.ptl.lock();
        try {
            if (a.frame[page] != g || phys.use[(int) g] == PhysMem.FREE) {
                throw new IllegalStateException("guest kernel bug: gfn 0x" + Long.toHexString(g) + " at 0x"
                        + Long.toHexString(pageVa) + " of " + t + " changed while its copy was made");
            }
            tables.clear(v, pt, idx, 1);
            k.flushRange(v, mm, pageVa, 1); // ptep_clear_flush
            a.frame[page] = -1;
            mapLocked(v, pt, idx, a, page, n, true, true);
            lastMap = g != k.zeroPage && phys.mapDec(g) == 0 && phys.use[(int) g] == PhysMem.ANON;
        } finally {
            mm.ptl.unlock();
        }
        a.anonVma = true;
        mine.cowFaults++;
        if (lastMap) {
            phys.free(g); // put_page after pte_unmap_unlock
        }
    }

    /**
     * {@code clear_user_highpage} ({@code from} -1) or {@code copy_user_highpage} into the freshly
     * allocated page {@code n}, with {@code mmap_lock} held and no page-table lock, as Linux
     * clears and copies: {@code n} is private to this vCPU until {@link #map} installs it, and the
     * source does not change meanwhile. A copy-on-write source is mapped read-only by every
     * sharer, this process among them (so it is not freed, and no sharer may reuse it in place
     * while its map count counts this pte); a page-cache source is held by its page lock, taken
     * shared by the caller, so {@code write()} to it waits; the zero page never changes.
     */
    private void preparePrivate(int v, Mm mm, long from, long n) {
        mm.ptl.assertNotHeld();
        if (from < 0) {
            km.clearDataPage(v, n);
            image.clear(n);
        } else {
            km.copyDataPage(v, from, n);
            image.copy(from, n);
        }
    }

    /** Installs a new pte under the page-table lock, after checking that none appeared meanwhile ({@code pte_none} re-checked). */
    private void map(int v, Mm mm, long pt, int idx, Area a, int page, int expected, long gfn, boolean write, boolean dirty) {
        mm.ptl.lock();
        try {
            if (a.frame[page] != expected) {
                throw new IllegalStateException("guest kernel bug: page " + page + " of " + a + " was mapped to gfn 0x"
                        + Integer.toHexString(a.frame[page]) + " while its fault was handled");
            }
            mapLocked(v, pt, idx, a, page, gfn, write, dirty);
        } finally {
            mm.ptl.unlock();
        }
    }

    private void mapLocked(int v, long pt, int idx, Area a, int page, long gfn, boolean write, boolean dirty) {
        tables.set(v, pt, idx, 1, f.leaf(gfn, write && a.writable(), true, a.executable(), dirty));
        a.frame[page] = (int) gfn;
        if (gfn != k.zeroPage) {
            phys.mapInc(gfn);
        }
    }

    static String kindName(int kind) {
        return kind == READ ? "read" : kind == WRITE ? "write" : "fetch";
    }
}
