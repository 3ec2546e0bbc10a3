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
     * handled under the kernel lock, which it drops while it clears or copies a new page.
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
            k.lock.lock();
            try {
                handleFault(t, va, cpu.errorCode());
            } finally {
                k.lock.unlock();
            }
        }
        int g = a.frame[page];
        if (g < 0 || (cpu.gpa() >>> 12) != g) {
            throw new GuestCorruption(t + " " + kindName(kind) + " at gva 0x" + Long.toHexString(va) + " reached gpa 0x"
                    + Long.toHexString(cpu.gpa()) + ", its pte maps gfn 0x" + Integer.toHexString(g));
        }
        if (kind == WRITE) {
            if (phys.use[g] != PhysMem.ANON || phys.mapCount[g] != 1) {
                // Copy-on-write isolation: a private write may land only on an anonymous page
                // mapped by this pte alone. A stale writable translation (a missed flush after
                // fork or mprotect) lands elsewhere, and is caught here.
                throw new GuestCorruption(t + " write at gva 0x" + Long.toHexString(va) + " completed on gfn 0x"
                        + Integer.toHexString(g) + " (" + PhysMem.useName(phys.use[g]) + ", mapped " + phys.mapCount[g]
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
     * {@code handle_mm_fault} for a user fault at {@code va} with error code {@code ec}. Kernel
     * lock held; dropped while a new page is cleared or copied ({@link #preparePrivate}).
     */
    void handleFault(Task t, long va, int ec) {
        k.assertLocked();
        counters.pageFaults++;
        int v = t.vcpu;
        Mm mm = t.mm;
        Area a = mm.find(va);
        boolean write = (ec & 2) != 0;
        boolean fetch = (ec & 16) != 0;
        if (a == null || (write && !a.writable()) || (fetch && !a.executable())) {
            throw new IllegalStateException("guest program bug: " + t + " faulted at 0x" + Long.toHexString(va)
                    + " error code 0x" + Integer.toHexString(ec) + " outside its rights (" + a + ")");
        }
        int page = (int) ((va - a.start) >>> 12);
        long pageVa = va & ~0xfffL;
        long pt = tables.pteTable(v, mm.pgd, va, true);
        int idx = f.index(va, 1);
        long pte = tables.read(v, pt, idx);
        if (!PageTableFormat.present(pte)) {
            if (a.frame[page] >= 0) {
                throw new GuestCorruption("pte of 0x" + Long.toHexString(pageVa) + " reads not present, the kernel mapped gfn 0x"
                        + Integer.toHexString(a.frame[page]));
            }
            if (a.file == Area.ANON) {
                if (!write) {
                    map(v, pt, idx, a, page, k.zeroPage, false, false);
                    counters.zeroPageFaults++;
                } else {
                    long n = phys.alloc(PhysMem.ANON);
                    preparePrivate(v, -1, n);
                    map(v, pt, idx, a, page, n, true, true);
                    counters.anonFaults++;
                }
                return;
            }
            long cached = k.cache.get(v, a.file, a.fileOffset + page);
            if (write) {
                long n = phys.alloc(PhysMem.ANON);
                phys.copiers[(int) cached]++; // lock_page
                try {
                    preparePrivate(v, cached, n);
                } finally {
                    phys.copiers[(int) cached]--;
                    k.pageUnlocked.signalAll();
                }
                map(v, pt, idx, a, page, n, true, true);
                a.anonVma = true;
                counters.cowFaults++;
            } else {
                map(v, pt, idx, a, page, cached, false, false);
                counters.fileFaults++;
            }
            return;
        }
        long g = f.frame(pte);
        if (a.frame[page] != g) {
            throw new GuestCorruption("pte of 0x" + Long.toHexString(pageVa) + " maps gfn 0x" + Long.toHexString(g)
                    + ", the kernel mapped gfn 0x" + Integer.toHexString(a.frame[page]));
        }
        if (!write || PageTableFormat.writable(pte)) {
            counters.spuriousFaults++; // the tables allow it: nothing to fix (spurious_fault)
            return;
        }
        if (g != k.zeroPage && phys.use[(int) g] == PhysMem.ANON && phys.mapCount[(int) g] == 1) {
            tables.set(v, pt, idx, 1, pte | PageTableFormat.RW | PageTableFormat.D | PageTableFormat.A);
            counters.reuseFaults++; // wp_page_reuse: an upgrade, no flush on x86
            return;
        }
        long n = phys.alloc(PhysMem.ANON);
        preparePrivate(v, g == k.zeroPage ? -1 : g, n);
        if (a.frame[page] != g || phys.use[(int) g] == PhysMem.FREE) {
            throw new IllegalStateException("guest kernel bug: gfn 0x" + Long.toHexString(g) + " at 0x"
                    + Long.toHexString(pageVa) + " of " + t + " changed while its copy was made");
        }
        tables.clear(v, pt, idx, 1);
        k.flushRange(v, mm, pageVa, 1); // ptep_clear_flush
        a.frame[page] = -1;
        map(v, pt, idx, a, page, n, true, true);
        a.anonVma = true;
        counters.cowFaults++;
        if (g != k.zeroPage && --phys.mapCount[(int) g] == 0 && phys.use[(int) g] == PhysMem.ANON) {
            phys.free(g);
        }
    }

    /**
     * {@code clear_user_highpage} ({@code from} -1) or {@code copy_user_highpage} into the freshly
     * allocated page {@code n}, with the kernel lock dropped, as Linux clears and copies with no
     * spin lock held: {@code n} is private to this vCPU until {@link #map} installs it, and the
     * source does not change meanwhile. A copy-on-write source is mapped read-only by every
     * sharer, this process among them (so it is not freed, and no sharer may reuse it in place
     * while its map count counts this pte); a page-cache page is never taken back, and
     * {@code write()} to it waits while a copy is being made ({@link PhysMem#copiers}, the page
     * lock). The zero page never changes. Nothing else the
     * fault handler looked at can change either: only this vCPU edits this process's tables and
     * areas. The accesses and their order are the same as under the lock, so a one-thread run
     * is unchanged. Called with the kernel lock held; holds it again on return (also when the
     * clear or copy throws). Nested in a system call that already holds the lock (a fault on a
     * user buffer), the clear or copy stays under it.
     */
    private void preparePrivate(int v, long from, long n) {
        k.lock.unlock();
        try {
            if (from < 0) {
                km.clearDataPage(v, n);
                image.clear(n);
            } else {
                km.copyDataPage(v, from, n);
                image.copy(from, n);
            }
        } finally {
            k.lock.lock();
        }
    }

    private void map(int v, long pt, int idx, Area a, int page, long gfn, boolean write, boolean dirty) {
        tables.set(v, pt, idx, 1, f.leaf(gfn, write && a.writable(), true, a.executable(), dirty));
        a.frame[page] = (int) gfn;
        if (gfn != k.zeroPage) {
            phys.mapCount[(int) gfn]++;
        }
    }

    static String kindName(int kind) {
        return kind == READ ? "read" : kind == WRITE ? "write" : "fetch";
    }
}
