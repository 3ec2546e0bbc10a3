package org.shadowbox.guest.internal.kernel;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * The guest kernel's page-table code, for any {@link PageTableFormat}: every entry is read and
 * written by kernel accesses on a vCPU ({@link KernelMemory}), never host-side. Models Linux's
 * {@code pgd_alloc}/{@code pgd_free} ({@code arch/x86/mm/pgtable.c}), the allocating walk of
 * {@code __handle_mm_fault} ({@code p4d_alloc}, {@code pud_alloc}, {@code pmd_alloc},
 * {@code __pte_alloc}), {@code free_pgd_range} ({@code mm/memory.c}) and the boot-time direct
 * map ({@code kernel_physical_mapping_init}).
 */
final class PageTables {
    final PageTableFormat f;
    private final KernelMemory km;
    private final PhysMem phys;
    private final Counters counters;

    PageTables(PageTableFormat f, KernelMemory km, PhysMem phys, Counters counters) {
        this.f = f;
        this.km = km;
        this.phys = phys;
        this.counters = counters;
    }

    long entryGpa(long table, int index) {
        return (table << 12) + (long) index * f.entrySize();
    }

    long read(int cpu, long table, int index) {
        return km.read(cpu, entryGpa(table, index), f.entrySize());
    }

    /** Writes an entry. A process's tables: its {@code page_table_lock} held (or the mm not yet visible to anyone). */
    void set(int cpu, long table, int index, int level, long value) {
        f.set(km, cpu, entryGpa(table, index), level, value);
        counters.cpu[cpu].pteWrites++;
    }

    void clear(int cpu, long table, int index, int level) {
        f.clear(km, cpu, entryGpa(table, index), level);
        counters.cpu[cpu].pteWrites++;
    }

    /** A zeroed page-table page ({@code __GFP_ZERO}). No page-table lock held. */
    long allocTable(int cpu) {
        long gfn = phys.alloc(PhysMem.PAGE_TABLE);
        km.clearPage(cpu, gfn);
        return gfn;
    }

    /**
     * {@code pgd_alloc}: a zeroed pgd with the kernel half copied from {@code kernelPgd}
     * ({@code pgd_ctor}); under PAE the user PMDs are allocated with it.
     */
    long pgdAlloc(int cpu, long kernelPgd) {
        long pgd = allocTable(cpu);
        int top = f.levels();
        for (int i = 0; i < f.kernelPgdIndex() && f.preallocated(top - 1); i++) {
            set(cpu, pgd, i, top, f.tableEntry(allocTable(cpu), top, true));
        }
        for (int i = f.kernelPgdIndex(); i < f.entries(top); i++) {
            long e = read(cpu, kernelPgd, i);
            if (PageTableFormat.present(e)) {
                set(cpu, pgd, i, top, e);
            }
        }
        return pgd;
    }

    /** {@code pgd_free}: the pgd and the PMDs allocated with it. The caller has flushed. */
    void pgdFree(int cpu, long pgd) {
        int top = f.levels();
        for (int i = 0; i < f.kernelPgdIndex() && f.preallocated(top - 1); i++) {
            long e = read(cpu, pgd, i);
            phys.free(f.frame(e));
        }
        phys.free(pgd);
    }

    /**
     * The PTE table for user address {@code va} of {@code mm}, allocating the missing tables on
     * the way when {@code alloc}; -1 if one is missing and {@code alloc} is false. The walk of
     * {@code __handle_mm_fault}: {@code mmap_lock} held, the upper entries read without the
     * page-table lock (they only change under {@code mmap_lock}); a missing table is allocated
     * and cleared with no page-table lock held, then linked in under it ({@code __pte_alloc},
     * {@code pmd_populate}). No re-check under the lock is needed (nor made: it would be a guest
     * access more): only this mm's own vCPU edits it, and it holds {@code mmap_lock}.
     */
    long pteTable(int cpu, Mm mm, long va, boolean alloc) {
        mm.mmapLock.assertHeld();
        long table = mm.pgd;
        for (int level = f.levels(); level > 1; level--) {
            int idx = f.index(va, level);
            long e = read(cpu, table, idx);
            if (PageTableFormat.present(e)) {
                table = f.frame(e);
                continue;
            }
            if (!alloc) {
                return -1;
            }
            mm.ptl.assertNotHeld();
            long t = allocTable(cpu);
            mm.ptl.lock();
            try {
                set(cpu, table, idx, level, f.tableEntry(t, level, true));
            } finally {
                mm.ptl.unlock();
            }
            table = t;
        }
        return table;
    }

    /** The boot-time walk (kernel half, one vCPU, before anything else runs): no lock. */
    private long table(int cpu, long pgd, long va, int targetLevel, boolean alloc, boolean user) {
        long table = pgd;
        for (int level = f.levels(); level > targetLevel; level--) {
            int idx = f.index(va, level);
            long e = read(cpu, table, idx);
            if (PageTableFormat.present(e)) {
                table = f.frame(e);
                continue;
            }
            if (!alloc) {
                return -1;
            }
            long t = allocTable(cpu);
            set(cpu, table, idx, level, f.tableEntry(t, level, user));
            table = t;
        }
        return table;
    }

    /**
     * {@code free_pgd_range}: under {@code table} (a table of {@code level}), frees every
     * lower table that maps only addresses in {@code [start, end)} and lies wholly inside
     * {@code [floor, ceiling)} (no other area can need it): clears the entry that points at it
     * and pushes its gfn on {@code freed}, for the caller to free after the TLB flush. Tables the
     * pgd owns (PAE PMDs) stay.
     */
    void freeRange(int cpu, long table, int level, long start, long end, long floor, long ceiling, LongStack freed) {
        long size = 1L << f.shift(level);
        for (long va = start & -size; va < end; va += size) {
            int idx = f.index(va, level);
            long e = read(cpu, table, idx);
            if (!PageTableFormat.present(e)) {
                continue;
            }
            long child = f.frame(e);
            if (level - 1 > 1) {
                freeRange(cpu, child, level - 1, Math.max(va, start), Math.min(va + size, end), floor, ceiling, freed);
            }
            if (!f.preallocated(level - 1) && va >= floor && va + size <= ceiling) {
                clear(cpu, table, idx, level);
                freed.push(child);
            }
        }
    }

    /**
     * Boots the kernel half with paging off: a pgd ({@code swapper_pg_dir}) whose direct map
     * covers guest RAM up to {@code frames}, with large pages wherever one memslot covers a whole
     * aligned large frame, 4 KiB pages elsewhere.
     */
    long bootKernelPgd(int cpu, Vm vm, long frames) {
        long pgd = allocTable(cpu);
        long large = 1L << (f.shift(2) - 12);
        for (long g = 0; g < frames; g += large) {
            long va = f.directMapBase() + (g << 12);
            Memslot s = vm.slotForGfn(g);
            if (s != null && !s.readonly() && s.baseGfn() <= g && s.endGfn() >= g + large && g + large <= frames) {
                long pd = table(cpu, pgd, va, 2, true, false);
                set(cpu, pd, f.index(va, 2), 2, f.largeLeaf(g));
                continue;
            }
            for (long gfn = g; gfn < Math.min(g + large, frames); gfn++) {
                Memslot t = vm.slotForGfn(gfn);
                if (t == null || t.readonly()) {
                    continue;
                }
                long pva = f.directMapBase() + (gfn << 12);
                long pt = table(cpu, pgd, pva, 1, true, false);
                set(cpu, pt, f.index(pva, 1), 1, f.leaf(gfn, true, false, false, true));
            }
        }
        return pgd;
    }
}
