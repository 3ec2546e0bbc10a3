package org.shadowbox.guest.internal.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;

/** The guest's page-table code, per paging mode, against the architectural walker. */
class PageTablesTest {

    @ParameterizedTest
    @ValueSource(strings = {"64", "pae", "32"})
    void theDirectMapUsesLargePagesWhereASlotCoversThemAndMapsAllRam(String paging) {
        Rig r = new Rig(paging, 256L << 20, 1, 1);
        // 64: pgd, PDPT, PD, and one PTE table for the first 2 MiB (the 640K-1M hole);
        // PAE: PDPT, kernel PMD, one PTE table; 32: page directory, one PTE table (first 4 MiB).
        int expected = switch (paging) { case "64" -> 4; case "pae" -> 3; default -> 2; };
        assertEquals(expected, r.k.bootTablePages, paging);
        BareMetalCpu p = r.probe(r.k.kernelPgd);
        for (long gfn : new long[] {0x10, 0x9f, 0x100, 0x1ff, 0x200, 0x3ff, 0x400, 0x1234, (256L << 8) - 1}) {
            long gpa = (gfn << 12) | 0x18;
            assertTrue(p.read(r.k.directMap(gpa), 8, false), paging + " gfn 0x" + Long.toHexString(gfn));
            assertEquals(gpa, p.gpa(), paging);
            assertFalse(p.read(r.k.directMap(gpa), 8, true), paging + ": the direct map is supervisor-only");
        }
        assertFalse(p.read(r.k.directMap(0xa0000), 8, false), paging + ": the legacy hole is not mapped");
    }

    @ParameterizedTest
    @ValueSource(strings = {"64", "pae", "32"})
    void userLeavesTranslateAndFreeingTheRangeFreesEveryTable(String paging) {
        Rig r = new Rig(paging, 64L << 20, 1, 2);
        PageTables t = r.k.tables;
        PageTableFormat f = r.k.f;
        long before = r.k.counters.ptPagesAllocated();
        long pgd = t.pgdAlloc(0, r.k.kernelPgd);
        Mm mm = locked(pgd);
        int withPgd = (int) (r.k.counters.ptPagesAllocated() - before);
        assertEquals(paging.equals("pae") ? 4 : 1, withPgd, "PAE allocates its 3 user PMDs with the pgd");
        SplittableRandom rnd = new SplittableRandom(2);
        long[] va = new long[40];
        long[] gfn = new long[40];
        for (int i = 0; i < va.length; i++) {
            va[i] = (rnd.nextLong(f.userTop() >>> 12)) << 12;
            gfn[i] = 0x1000 + i;
            long pt = t.pteTable(0, mm, va[i], true);
            t.set(0, pt, f.index(va[i], 1), 1, f.leaf(gfn[i], i % 2 == 0, true, i % 3 == 0, false));
        }
        BareMetalCpu p = r.probe(pgd);
        for (int i = 0; i < va.length; i++) {
            String ctx = paging + " va 0x" + Long.toHexString(va[i]);
            if (r.k.tables.pteTable(0, mm, va[i], false) < 0) {
                throw new AssertionError(ctx + ": table missing");
            }
            assertTrue(p.read(va[i] + 8, 8, true), ctx);
            assertEquals((gfn[i] << 12) + 8, p.gpa(), ctx);
            assertEquals(i % 2 == 0, p.write(va[i], 1, 8, true), ctx + " writable");
            if (f.hasNx()) {
                assertEquals(i % 3 == 0, p.fetch(va[i], 8, true), ctx + " executable");
            }
        }
        LongStack freed = new LongStack();
        t.freeRange(0, pgd, f.levels(), 0, f.userTop(), 0, f.userTop(), freed);
        assertEquals(r.k.counters.ptPagesAllocated() - before - withPgd, freed.size(), paging + ": every user table freed");
        for (long v : va) {
            assertFalse(p.read(v, 8, true), paging + " va 0x" + Long.toHexString(v) + " unmapped");
            assertEquals(GuestCpu.PAGE_FAULT, p.exception());
        }
        assertTrue(p.read(r.k.directMap(0x123458), 8, false), paging + ": the kernel half stays");
    }

    @Test
    void aPaePteIsWrittenHighHalfFirstAndClearedLowHalfFirst() {
        Rig r = new Rig("pae", 64L << 20, 1, 3);
        long pgd = r.k.tables.pgdAlloc(0, r.k.kernelPgd);
        Mm mm = locked(pgd);
        long pt = r.k.tables.pteTable(0, mm, 0x4000_0000L, true);
        Rig.Recording cpu = (Rig.Recording) r.k.cpus[0];
        cpu.on = true;
        long leaf = r.k.f.leaf(0x2345, true, true, false, false);
        r.k.tables.set(0, pt, 5, 1, leaf);
        r.k.tables.clear(0, pt, 5, 1);
        r.k.tables.set(0, pt, 6, 2, leaf); // a PMD-level store is one 8-byte write
        long e = 0xc000_0000L + (pt << 12);
        assertEquals(List.of(Long.toHexString(e + 44) + "/4=" + Long.toHexString(leaf >>> 32),
                Long.toHexString(e + 40) + "/4=" + Long.toHexString(leaf & 0xffff_ffffL),
                Long.toHexString(e + 40) + "/4=0", Long.toHexString(e + 44) + "/4=0",
                Long.toHexString(e + 48) + "/8=" + Long.toHexString(leaf)), r.kernelWrites);
    }

    @Test
    void freeRangeKeepsTablesANeighbourStillNeeds() {
        Rig r = new Rig("64", 64L << 20, 1, 4);
        PageTables t = r.k.tables;
        long pgd = t.pgdAlloc(0, r.k.kernelPgd);
        Mm mm = locked(pgd);
        long a = 0x7f00_0000_0000L;
        long b = a + 0x10_0000L; // same PTE table (same 2 MiB)
        t.set(0, t.pteTable(0, mm, a, true), r.k.f.index(a, 1), 1, r.k.f.leaf(0x1000, true, true, false, false));
        t.set(0, t.pteTable(0, mm, b, true), r.k.f.index(b, 1), 1, r.k.f.leaf(0x1001, true, true, false, false));
        LongStack freed = new LongStack();
        t.clear(0, t.pteTable(0, mm, a, false), r.k.f.index(a, 1), 1);
        t.freeRange(0, pgd, 4, a, a + 4096, 0, b, freed); // the area at b is the ceiling
        assertEquals(0, freed.size(), "the table also maps b");
        assertTrue(r.probe(pgd).read(b, 8, true));
        t.clear(0, t.pteTable(0, mm, b, false), r.k.f.index(b, 1), 1);
        t.freeRange(0, pgd, 4, b, b + 4096, 0, r.k.f.userTop(), freed);
        assertEquals(3, freed.size(), "PTE table, PD and PDPT under PML4 slot 254");
    }

    /** An address space over {@code pgd} with its {@code mmap_lock} held, as the table walk needs. */
    private static Mm locked(long pgd) {
        Mm mm = new Mm(pgd, 0);
        mm.mmapLock.lock();
        return mm;
    }
}
