package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;

/**
 * Shadow paging of a 32-bit guest (4-byte gptes, 1024 per table, PSE 4 MiB pages) as KVM does
 * it: 512-entry shadow pages told apart by role.quadrant under a PAE root, and the fault path's
 * rules in this mode.
 */
class Paging32ShadowTest {
    private static final long PD = 0x10, PT = 0x13, DATA = 0x200, OTHER = 0x201;
    /** PDE 1, PT entry 0 (lower half of the PT: level-1 quadrant 0). */
    private static final long LO = 0x40_0000L;
    /** PDE 1, PT entry 512 (upper half: level-1 quadrant 1, gva bit 21). */
    private static final long HI = 0x60_0000L;
    /** PT entry 1 maps the PT itself, entry 2 the PD: the OS's windows onto its tables. */
    private static final long PT_WINDOW = 0x40_1000L, PD_WINDOW = 0x40_2000L;
    /** PDE 0x300: the kernel's 3 GiB, in the directory's quadrant 3. */
    private static final long KERNEL = 0xc000_0000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig(PagingMode.BITS32);
    private final VcpuMmu cpu0 = rig.cpu(0);

    Paging32ShadowTest() {
        rig.pte32(PD, 1, (PT << 12) | ShadowRig.RWU);
        rig.pte32(PD, 0x300, (PT << 12) | ShadowRig.RWU); // the same PT also maps the kernel's 4 MiB
        rig.pte32(PT, 0, (DATA << 12) | DIRTY);
        rig.pte32(PT, 512, (OTHER << 12) | DIRTY);
        rig.pte32(PT, 1, (PT << 12) | DIRTY);
        rig.pte32(PT, 2, (PD << 12) | DIRTY);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(OTHER << 12, 0x2222, 8);
        for (int i = 0; i < 2; i++) {
            rig.vm.vcpu(i).set(Register.CR3, PD << 12);
        }
    }

    private long read(long gva) {
        assertTrue(cpu0.read(gva, 8, false, rig.r).ok(), "read 0x" + Long.toHexString(gva) + ": " + rig.r);
        return rig.r.value;
    }

    @Test
    void theDirectoryIsShadowedByFourQuadrantsUnderAPaeRoot() {
        assertEquals(0x1111, read(LO));
        for (int q = 0; q < 4; q++) {
            ShadowPage root = cpu0.paeRoot(q);
            assertNotNull(root, "PAE root entry " + q);
            assertEquals(PD, root.gfn());
            assertEquals(2, root.level());
            assertEquals(q, Role.quadrant(root.role()), "entry " + q + " shadows quadrant " + q);
            assertFalse(Role.cr4Pae(root.role()), "role.cr4_pae is clear for a 32-bit guest");
            assertEquals(1, root.rootCount());
        }
        assertEquals(4, rig.external("obs").count(rig.vm, PD, TrackMode.WRITE), "each quadrant page tracks the PD");
        assertEquals(0x1111, read(KERNEL));
        List<ShadowPage> kernelPath = rig.shadowPath(cpu0, KERNEL);
        assertSame(cpu0.paeRoot(3), kernelPath.get(0), "gva bits 31:30 pick the root entry");
        rig.assertConsistent("four quadrants");
    }

    @Test
    void aLevelOneTableIsShadowedByTwoPagesOnePerHalf() {
        assertEquals(0x1111, read(LO));
        assertEquals(0x2222, read(HI));
        ShadowPage lower = rig.shadowPath(cpu0, LO).get(1);
        ShadowPage upper = rig.shadowPath(cpu0, HI).get(1);
        assertNotSame(lower, upper);
        assertEquals(PT, lower.gfn());
        assertEquals(PT, upper.gfn());
        assertEquals(0, Role.quadrant(lower.role()));
        assertEquals(1, Role.quadrant(upper.role()), "gva bit 21 is the level-1 quadrant");
        assertEquals(4, lower.gpteSize());
        assertEquals((PT << 12) + 4 * 512, upper.gpteGpa(0), "the upper page's entry 0 is guest entry 512");
        assertEquals(rig.vm.slotForGfn(OTHER).hostFrame(OTHER), Spte.pfn(upper.spte(0)));
        assertEquals(rig.vm.slotForGfn(DATA).hostFrame(DATA), Spte.pfn(lower.spte(0)));
        // Both hang off root quadrant 0: PDE 1 covers shadow entries 2 and 3 (two 2 MiB halves).
        ShadowPage root0 = cpu0.paeRoot(0);
        assertEquals(Spte.makeNonLeaf(lower.id()), root0.spte(2));
        assertEquals(Spte.makeNonLeaf(upper.id()), root0.spte(3));
        rig.assertConsistent("two quadrants of one PT");
    }

    @Test
    void aWriteToTheUpperHalfOfATableReachesOnlyTheQuadrantOnePage() {
        assertEquals(0x1111, read(LO));
        assertEquals(0x2222, read(HI));
        ShadowPage lower = rig.shadowPath(cpu0, LO).get(1);
        ShadowPage upper = rig.shadowPath(cpu0, HI).get(1);
        long lowerSpte = lower.spte(0);
        // The OS rewrites guest entry 512 (byte 2048 of the PT) through its window: the PT's
        // pages go unsync (KVM unsyncs every page of the gfn) and the write is direct.
        assertTrue(cpu0.write(PT_WINDOW + 4 * 512, (DATA << 12) | DIRTY, 4, false, rig.r).ok());
        assertFalse(rig.r.emulated, "an unsync page table is written directly");
        assertTrue(lower.unsync() && upper.unsync());
        rig.assertConsistent("both halves unsync");
        long syncs = rig.mmu.stats().get(MmuCounter.MMU_SYNC_PAGE);
        cpu0.invlpg(HI);
        assertEquals(lowerSpte, lower.spte(0), "the quadrant-0 page is not touched");
        assertEquals(rig.vm.slotForGfn(DATA).hostFrame(DATA), Spte.pfn(upper.spte(0)),
                "INVLPG rebuilt the quadrant-1 spte from guest entry 512");
        assertEquals(syncs, rig.mmu.stats().get(MmuCounter.MMU_SYNC_PAGE), "INVLPG syncs no page");
        assertEquals(0x1111, read(HI));
        assertEquals(0x1111, read(LO));
        cpu0.writeCr3(PD << 12);
        assertFalse(lower.unsync() || upper.unsync());
        assertEquals(syncs + 2, rig.mmu.stats().get(MmuCounter.MMU_SYNC_PAGE), "the CR3 write synced both quadrants");
        rig.assertConsistent("resynced");
    }

    @Test
    void aResyncReadsFourByteGptesFromTheQuadrant() {
        rig.vm.vcpu(0).set(Register.EFER, Register.EFER_NXE); // bit 63 of an 8-byte read would mean NX
        rig.pte32(PT, 513, 0xfee0_0000L | DIRTY); // the next gpte has bit 31 set (a device page)
        assertEquals(0x2222, read(HI));
        ShadowPage upper = rig.shadowPath(cpu0, HI).get(1);
        assertTrue(cpu0.write(PT_WINDOW + 4 * 7, 0, 4, false, rig.r).ok()); // unsync the PT
        assertTrue(upper.unsync());
        cpu0.writeCr3(PD << 12); // kvm_sync_page of both quadrants
        assertFalse(upper.unsync());
        long spte = upper.spte(0);
        assertTrue(Spte.isPresent(spte));
        assertEquals(0, spte & Spte.NX, "guest entry 512 alone decides the rights: 4 bytes, not 8");
        assertEquals(rig.vm.slotForGfn(OTHER).hostFrame(OTHER), Spte.pfn(spte));
        rig.assertConsistent("resynced");
    }

    @Test
    void theFallbackZapsEveryQuadrantOfAnEmulatedWrite() {
        assertEquals(0x1111, read(LO));
        assertEquals(0x2222, read(HI));
        rig.external("kvmgt").add(rig.vm, PT, TrackMode.WRITE); // the PT can no longer go unsync
        MmuStats before = rig.mmu.stats();
        assertTrue(cpu0.write(PT_WINDOW + 4 * 512, 0, 4, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        MmuStats after = rig.mmu.stats();
        assertEquals(before.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED) + 2, after.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED), "both quadrants zapped");
        rig.assertConsistent("after the fallback");
        assertEquals(0x1111, read(LO));
        assertFalse(cpu0.read(HI, 8, false, rig.r).ok(), "guest entry 512 is gone");
        assertEquals(0, rig.r.errorCode & Pfec.PRESENT, "a not-present fault");
        // A directory write zaps the four root quadrants; the vCPU reloads them.
        ShadowPage oldRoot = cpu0.paeRoot(0);
        before = rig.mmu.stats();
        assertTrue(cpu0.write(PD_WINDOW + 4 * 5, 0, 4, false, rig.r).ok());
        assertTrue(rig.r.emulated, "the PD is write-tracked");
        assertEquals(before.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED) + 4, rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED));
        assertTrue(oldRoot.invalid());
        assertEquals(0x1111, read(LO));
        assertNotSame(oldRoot, cpu0.paeRoot(0));
        rig.assertConsistent("roots reloaded");
    }

    @Test
    void aFourMegabytePageIsMappedByTwoTwoMegabyteSptes() {
        long big = 0x80_0000L; // PDE 2: a 4 MiB page at gfn 0x800
        rig.pte32(PD, 2, (0x800L << 12) | DIRTY | Pte.PS);
        rig.mem.write(0x805L << 12, 0x55, 8);
        rig.mem.write(0xa03L << 12, 0x66, 8);
        assertEquals(0x55, read(big + 0x5000));
        assertEquals(0x66, read(big + 0x20_0000 + 0x3000));
        ShadowPage root0 = cpu0.paeRoot(0);
        long first = root0.spte(4);
        long second = root0.spte(5);
        assertTrue(Spte.isLarge(first) && Spte.isLarge(second), "two large sptes, one per 2 MiB half");
        assertEquals(0x800, root0.gfnAt(4));
        assertEquals(0xa00, root0.gfnAt(5));
        assertEquals(rig.vm.slotForGfn(0xa00).hostFrame(0xa00), Spte.pfn(second));
        rig.assertConsistent("4 MiB as 2 x 2 MiB");
        // A tracked page inside the upper half: that half is split into 4 KiB sptes under a
        // direct page (of quadrant 1, as KVM gets it), the lower half stays large.
        rig.external("kvmgt").add(rig.vm, 0xa05, TrackMode.WRITE);
        assertTrue(cpu0.write(big + 0x20_0000 + 0x3000, 0x77, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated);
        List<ShadowPage> path = rig.shadowPath(cpu0, big + 0x20_0000 + 0x3000);
        assertEquals(2, path.size());
        assertTrue(path.get(1).direct());
        assertEquals(1, Role.quadrant(path.get(1).role()));
        assertEquals(0xa00, path.get(1).gfn());
        assertTrue(Spte.isLarge(root0.spte(4)), "the lower half keeps its large spte");
        assertTrue(cpu0.write(big + 0x20_0000 + 0x5000, 0x88, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "the tracked page is emulated");
        assertEquals(0x88, rig.mem.read(0xa05L << 12, 8));
        rig.assertConsistent("split");
    }

    @Test
    void aTrackedWriteIsEmulatedAndANotPresentOneMapsReadOnlyFirst() {
        rig.pte32(PT, 0, (DATA << 12) | ShadowRig.RWU | Pte.A); // clean
        assertEquals(0x1111, read(LO));
        rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE);
        MmuStats before = rig.mmu.stats();
        assertTrue(cpu0.write(LO + 8, 0xabcd, 4, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        assertEquals(before.get(MmuCounter.PF_FIXED), rig.mmu.stats().get(MmuCounter.PF_FIXED), "a present write fault: no mapping attempt");
        assertEquals(List.of("vcpu0 0x200008=0xabcd/4"), rig.writes);
        rig.external("kvmgt").add(rig.vm, OTHER, TrackMode.WRITE);
        before = rig.mmu.stats();
        assertTrue(cpu0.write(HI, 0x99, 1, true, rig.r).ok());
        assertTrue(rig.r.emulated);
        assertEquals(before.get(MmuCounter.PF_FIXED) + 1, rig.mmu.stats().get(MmuCounter.PF_FIXED), "not present: mapped read-only, then emulated");
        long spte = rig.shadowLeaf(cpu0, HI);
        assertTrue(Spte.isPresent(spte) && !Spte.isWritable(spte));
        rig.assertConsistent("tracked");
    }

    @Test
    void accessedAndDirtyBitsAreSetInTheFourByteEntriesOnly() {
        rig.pte32(PT, 0, (DATA << 12) | ShadowRig.RWU);
        rig.pte32(PT, 3, 0xdead_b000L | Pte.P); // a neighbour that must not change
        rig.pte32(PD, 1, (PT << 12) | ShadowRig.RWU);
        rig.pte32(PD, 0, 0x1234_5000L); // the PDE before, not present
        assertTrue(cpu0.write(LO, 5, 8, true, rig.r).ok());
        assertEquals((DATA << 12) | ShadowRig.RWU | Pte.A | Pte.D, rig.readPte32(PT, 0));
        assertEquals((PT << 12) | ShadowRig.RWU | Pte.A, rig.readPte32(PD, 1));
        assertEquals(0xdead_b000L | Pte.P, rig.readPte32(PT, 3));
        assertEquals(0x1234_5000L, rig.readPte32(PD, 0));
        assertTrue(Spte.isWritable(rig.shadowLeaf(cpu0, LO)), "dirty now: the spte may be writable");
        rig.assertConsistent("A/D set");
    }

    @Test
    void linearAddressesWrapAtFourGigabytes() {
        rig.pte32(PD, 0x3ff, (PT << 12) | ShadowRig.RWU); // the last 4 MiB: PT entry 1023 then gva 0
        rig.pte32(PT, 1023, (OTHER << 12) | DIRTY);
        rig.pte32(PD, 0, (PT << 12) | ShadowRig.RWU);
        rig.mem.write((OTHER << 12) + 4094, 0xbbaa, 2);
        rig.mem.write(DATA << 12, 0xddcc, 2);
        assertTrue(cpu0.read(0xffff_fffeL, 4, false, rig.r).ok(), rig.r.toString());
        assertEquals(0xddcc_bbaaL, rig.r.value, "the second half comes from linear address 0");
        assertFalse(cpu0.read(0x1_0000_0000L + 0x2000_0000L, 4, false, rig.r).ok(), "bits 63:32 are dropped");
        assertEquals(GuestWalk.PAGE_FAULT, rig.r.exception);
        assertEquals(0x2000_0000L, rig.vm.vcpu(0).get(Register.CR2));
        rig.assertConsistent("wrap");
    }
}
