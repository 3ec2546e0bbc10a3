package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;

/** The KVM rules of the fault path, one test each. */
class FaultPathTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200, OTHER = 0x201;
    private static final long GVA = 0x40_0000L;
    /** A second mapping, of the PT page itself (what an OS's page-table window is). */
    private static final long PT_WINDOW = 0x40_1000L;
    /** A mapping of the PD page. */
    private static final long PD_WINDOW = 0x40_2000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig();
    private final VcpuMmu cpu0 = rig.cpu(0);
    private final VcpuMmu cpu1 = rig.cpu(1);

    FaultPathTest() {
        long[] tables = {PDPT, PD, PT};
        rig.map4k(PML4, tables, GVA, DATA, DIRTY);
        rig.map4k(PML4, tables, PT_WINDOW, PT, DIRTY);
        rig.map4k(PML4, tables, PD_WINDOW, PD, DIRTY);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(OTHER << 12, 0x2222, 8);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        rig.vm.vcpu(1).set(Register.CR3, PML4 << 12);
    }

    @Test
    void aGuestFaultIsTheGuestsAndChangesNoShadow() {
        rig.pte(PT, 7, 0); // not present
        assertFalse(cpu0.write(GVA + 0x6000 + 8, 1, 8, true, rig.r).ok());
        assertEquals(GuestWalk.PAGE_FAULT, rig.r.exception);
        assertEquals(Pfec.WRITE | Pfec.USER, rig.r.errorCode);
        assertEquals(GVA + 0x6000 + 8, rig.vm.vcpu(0).get(Register.CR2));
        assertEquals(1, rig.mmu.stats().get(MmuCounter.PF_GUEST));
        assertEquals(0, rig.mmu.stats().get(MmuCounter.PF_FIXED));
        rig.assertConsistent("after a guest fault");
    }

    @Test
    void aPresentWriteFaultOnATrackedGfnIsEmulatedWithoutAMappingAttempt() {
        rig.pte(PT, 0, (DATA << 12) | ShadowRig.RWU | Pte.A); // clean: the first read maps read-only
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        assertFalse(Spte.isWritable(rig.shadowLeaf(cpu0, GVA)), "a clean gpte maps read-only");
        rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE);
        List<ShadowPage> path = rig.shadowPath(cpu0, GVA);
        path.forEach(sp -> sp.writeFloodingCount = 2);
        MmuStats before = rig.mmu.stats();
        assertTrue(cpu0.write(GVA + 8, 0xabcd, 4, false, rig.r).ok());
        MmuStats after = rig.mmu.stats();
        assertTrue(rig.r.emulated);
        assertEquals(before.get(MmuCounter.PF_FIXED), after.get(MmuCounter.PF_FIXED), "no mapping attempt");
        assertEquals(before.get(MmuCounter.PF_EMULATE) + 1, after.get(MmuCounter.PF_EMULATE));
        assertEquals(0xabcd, rig.mem.read((DATA << 12) + 8, 4));
        assertEquals(List.of("vcpu0 0x200008=0xabcd/4"), rig.writes, "page track heard the emulated write");
        path.forEach(sp -> assertEquals(0, sp.writeFloodingCount(), "flood count cleared along the walk: " + sp));
        assertTrue((rig.readPte(PT, 0) & Pte.D) != 0, "the walker set D before emulating");
        rig.assertConsistent("after the emulated write");
    }

    @Test
    void aNotPresentWriteFaultOnATrackedGfnInstallsAReadOnlySpteThenEmulates() {
        rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE);
        MmuStats before = rig.mmu.stats();
        assertTrue(cpu0.write(GVA, 0x77, 1, true, rig.r).ok());
        MmuStats after = rig.mmu.stats();
        assertTrue(rig.r.emulated);
        assertEquals(before.get(MmuCounter.PF_FIXED) + 1, after.get(MmuCounter.PF_FIXED), "the normal path mapped it");
        assertEquals(before.get(MmuCounter.PF_EMULATE) + 1, after.get(MmuCounter.PF_EMULATE));
        long spte = rig.shadowLeaf(cpu0, GVA);
        assertTrue(Spte.isPresent(spte) && !Spte.isWritable(spte), "read-only spte installed");
        assertEquals(0x1177, rig.mem.read(DATA << 12, 8));
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok());
        assertFalse(rig.r.emulated);
        assertEquals(after.get(MmuCounter.PF_FIXED), rig.mmu.stats().get(MmuCounter.PF_FIXED), "the read uses the read-only spte");
        rig.assertConsistent("tracked and mapped read-only");
    }

    @Test
    void aLeafPageTableGoesOutOfSyncAndIsResyncedByInvlpgAndCr3() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        // Write the PT through its window: the level-1 page goes unsync, the write is direct.
        MmuStats before = rig.mmu.stats();
        assertTrue(cpu0.write(PT_WINDOW, (OTHER << 12) | DIRTY, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated, "an unsync page table is written directly");
        assertEquals(before.get(MmuCounter.MMU_UNSYNC) + 1, rig.mmu.stats().get(MmuCounter.MMU_UNSYNC));
        ShadowPage ptPage = rig.shadowPath(cpu0, GVA).get(3);
        assertTrue(ptPage.unsync());
        rig.assertConsistent("unsync");
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value, "until INVLPG the old translation stands, as on hardware");
        cpu0.invlpg(GVA);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x2222, rig.r.value, "INVLPG refreshed the spte from the new gpte");
        assertTrue(ptPage.unsync(), "INVLPG refreshes one spte; the page stays unsync");
        // A second change, then a CR3 write resyncs the whole page and write-protects it again.
        assertTrue(cpu0.write(PT_WINDOW, (DATA << 12) | DIRTY, 8, false, rig.r).ok());
        long syncs = rig.mmu.stats().get(MmuCounter.MMU_SYNC_PAGE);
        cpu0.writeCr3(PML4 << 12);
        assertFalse(ptPage.unsync());
        assertEquals(syncs + 1, rig.mmu.stats().get(MmuCounter.MMU_SYNC_PAGE));
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        assertFalse(Spte.isWritable(rig.shadowLeaf(cpu0, PT_WINDOW)), "the synced table is write-protected again");
        rig.assertConsistent("resynced");
        assertTrue(cpu0.write(PT_WINDOW + 8, 0, 8, false, rig.r).ok());
        assertTrue(ptPage.unsync(), "and the next write unsyncs it again");
    }

    @Test
    void aWriteToANonLeafTableIsEmulatedAndTheFallbackZapsItsShadow() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        MmuStats before = rig.mmu.stats();
        // Clear the PDE of another 2 MiB region through the PD window.
        assertTrue(cpu0.write(PD_WINDOW + 8 * 5, 0, 8, false, rig.r).ok());
        MmuStats after = rig.mmu.stats();
        assertTrue(rig.r.emulated, "the PD is write-tracked: emulated");
        assertEquals(before.get(MmuCounter.MMU_PTE_WRITE_FALLBACK) + 1, after.get(MmuCounter.MMU_PTE_WRITE_FALLBACK));
        assertEquals(before.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED) + 1, after.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED), "the one PD page zapped");
        assertTrue(after.get(MmuCounter.MMU_SHADOW_ZAPPED) > before.get(MmuCounter.MMU_SHADOW_ZAPPED));
        rig.assertConsistent("after the fallback zap");
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        rig.assertConsistent("re-shadowed");
    }

    /** PDPT entry 1 -> PD2 entry 0: a 2 MiB page at gfn 0x400; its gva. */
    private long mapLargeFrame() {
        long pd2 = 0x14;
        rig.pte(PDPT, 1, (pd2 << 12) | ShadowRig.RWU);
        rig.pte(pd2, 0, (0x400L << 12) | DIRTY | Pte.PS);
        return 0x4000_0000L;
    }

    @Test
    void aPageOfALargeFrameBecomesHostMemoryOutsideTheWalkAndTheWalkCountsOnce() {
        long big = mapLargeFrame();
        assertTrue(cpu0.read(big + 0x3000, 8, false, rig.r).ok()); // the fault: a large spte; gfn 0x403 resident
        assertEquals(2, rig.shadowLeafLevel(cpu0, big));
        assertTrue(Platform.slot(rig.vm.slotForGfn(0x403)).hostPageIfPresent(0x403) != null, "the fault made its page resident");
        assertTrue(Platform.slot(rig.vm.slotForGfn(0x407)).hostPageIfPresent(0x407) == null, "not the frame's others");
        long steps = rig.mmu.stats().get(MmuCounter.TLB_WALK_STEPS);
        long faults = rig.mmu.stats().get(MmuCounter.PF_TAKEN);
        // Another page of the frame: the TLB misses and the walk reaches the large spte, whose
        // page 0x407 is no host memory yet: made so outside the window, the walk done again.
        assertTrue(cpu0.write(big + 0x7008, 0x77, 8, false, rig.r).ok());
        assertEquals(0x77, rig.mem.read((0x407L << 12) + 8, 8));
        assertTrue(Platform.slot(rig.vm.slotForGfn(0x407)).hostPageIfPresent(0x407) != null);
        assertEquals(faults, rig.mmu.stats().get(MmuCounter.PF_TAKEN), "no fault: the spte was there");
        assertEquals(steps + 3, rig.mmu.stats().get(MmuCounter.TLB_WALK_STEPS),
                "one walk of three levels counted (PML4, PDPT, PD), not two");
        rig.assertConsistent("a large frame's page made resident by a walk");
    }

    @Test
    void noLargeSpteOverADisallowedFrame() {
        long big = mapLargeFrame();
        assertTrue(cpu0.write(big + 0x5000, 5, 8, false, rig.r).ok());
        assertEquals(2, rig.shadowLeafLevel(cpu0, big), "an allowed frame gets a large spte");
        rig.external("kvmgt").add(rig.vm, 0x410, TrackMode.WRITE);
        long large = rig.shadowLeaf(cpu0, big);
        assertTrue(Spte.isPresent(large) && !Spte.isWritable(large), "write-protected, not dropped, as KVM does");
        rig.assertConsistent("large spte write-protected");
        assertTrue(cpu0.write(big + 0x5000, 6, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated);
        assertEquals(1, rig.shadowLeafLevel(cpu0, big + 0x5000), "split into 4 KiB sptes under a direct page");
        assertTrue(rig.shadowPath(cpu0, big + 0x5000).get(3).direct());
        assertTrue(cpu0.write(big + 0x10000, 7, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "the tracked 4 KiB page inside is emulated");
        assertEquals(7, rig.mem.read(0x410L << 12, 8));
        rig.assertConsistent("split");
    }

    @Test
    void aRemoteFlushIsNeededAndTheTlbModelShowsIt() {
        assertTrue(cpu1.write(GVA, 1, 8, false, rig.r).ok());
        assertTrue(cpu1.write(GVA, 2, 8, false, rig.r).ok());
        assertTrue(rig.mmu.stats().get(MmuCounter.TLB_HIT) > 0, "the second write hit cpu1's TLB");
        PageTrack gvt = rig.external("kvmgt");
        gvt.add(rig.vm, DATA, TrackMode.WRITE); // from another thread of control: cpu1 must flush
        assertTrue(cpu1.tlbFlushPending());
        rig.assertConsistent("flush pending");
        assertTrue(cpu1.write(GVA, 3, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "cpu1 flushed before its access, so the write was caught");
        assertEquals(List.of("vcpu1 0x200000=0x3/8"), rig.writes);
    }

    @Test
    void aMissingFlushIsCaughtAsAStaleTranslation() {
        assertTrue(cpu1.write(GVA, 1, 8, false, rig.r).ok());
        // A buggy MMU write-protects the spte and forgets kvm_flush_remote_tlbs.
        Platform.mmuLock(rig.vm).lock();
        try {
            ShadowPage pt = rig.shadowPath(cpu1, GVA).get(3);
            int idx = PageFault.index(GVA, 1);
            pt.spt[idx] &= ~(Spte.WRITABLE | Spte.MMU_WRITEABLE);
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        List<String> violations = MmuChecker.check(rig.mmu);
        assertEquals(1, violations.size(), violations.toString());
        assertTrue(violations.get(0).startsWith("(f) vCPU 1 TLB entry for gva 0x400000 is stale"), violations.get(0));
        assertTrue(cpu1.write(GVA, 2, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated, "the stale TLB entry let the write through");
        cpu1.flushLocal();
        rig.assertConsistent("after the flush");
    }

    @Test
    void cr3SwitchesReuseCachedRootsAndDropInvalidatedOnes() {
        long pml4b = 0x20;
        rig.map4k(pml4b, new long[] {0x21, 0x22, 0x23}, GVA, OTHER, DIRTY);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        ShadowPage rootA = cpu0.root();
        cpu0.writeCr3(pml4b << 12);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x2222, rig.r.value);
        long misses = rig.mmu.stats().get(MmuCounter.MMU_CACHE_MISS);
        cpu0.writeCr3(PML4 << 12);
        assertSame(rootA, cpu0.root(), "the cached root is reused");
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        assertEquals(misses, rig.mmu.stats().get(MmuCounter.MMU_CACHE_MISS), "no new shadow page");
        // Writing the PML4 zaps the root; the vCPU drops it at its next access.
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, 0x40_3000L, PML4, DIRTY);
        cpu0.invlpg(0x40_3000L);
        assertTrue(cpu0.write(0x40_3000L + 8 * 300, 0, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        assertTrue(rootA.invalid());
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertNotEquals(rootA, cpu0.root());
        rig.assertConsistent("after the root was zapped");
    }

    @Test
    void pagesAreRecycledUnderTheLimit() {
        rig.mmu.setMaxMmuPages(12);
        for (int i = 0; i < 40; i++) {
            long gva = 0x8000_0000L + ((long) i << 21); // a new PT page for every 2 MiB
            long pt = 0x300 + i;
            rig.map4k(PML4, new long[] {PDPT, PD, pt}, gva, DATA, DIRTY);
            assertTrue(cpu0.read(gva, 8, false, rig.r).ok(), "access " + i);
            assertEquals(0x1111, rig.r.value);
            rig.assertConsistent("access " + i);
        }
        assertTrue(rig.mmu.stats().get(MmuCounter.MMU_RECYCLED) > 0);
        assertTrue(rig.mmu.shadowPages().size() <= 12);
    }

    @Test
    void aPageCrossingWriteIsEmulatedWholeWhenOnePageIsTracked() {
        rig.pte(PT, 1, (OTHER << 12) | DIRTY);
        rig.external("kvmgt").add(rig.vm, OTHER, TrackMode.WRITE);
        assertTrue(cpu0.write(GVA + 4094, 0x4433_2211L, 4, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        assertEquals(0x2211, rig.mem.read((DATA << 12) + 4094, 2));
        assertEquals(0x4433, rig.mem.read(OTHER << 12, 2));
        assertEquals(List.of("vcpu0 0x200ffe=0x2211/2", "vcpu0 0x201000=0x4433/2"), rig.writes);
        assertTrue(cpu0.read(GVA + 4094, 4, false, rig.r).ok());
        assertEquals(0x4433_2211L, rig.r.value);
        rig.assertConsistent("after the crossing write");
    }
}
