package org.shadowbox.gpu.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.VmException;

/** The KVMGT-style shadow: validation, rejection, rebuild after more than 3 failures, scratch, removal. */
class ShadowPpgttTest {
    static final long L4 = 0x200, L3 = 0x201, L2 = 0x202, L1 = 0x203, DATA = 0x300, SECRET = 0x3ff;

    private final GpuRig rig = new GpuRig();
    private final VGpu gpu = rig.gpu;

    @AfterEach
    void close() {
        rig.close();
    }

    /** Tables L4 -> L3 -> L2 -> L1 at index 0 each (gva 0 - 2 MiB), context 0 at L4; data pages given. */
    private void build() {
        gpu.grantTable(L4, 4);
        gpu.grantTable(L3, 3);
        gpu.grantTable(L2, 2);
        gpu.grantTable(L1, 1);
        for (int i = 0; i < 16; i++) {
            gpu.grantData(DATA + i);
        }
        rig.pte(L4, 0, GpuPte.make(L3, true)); // not tracked yet: the shadow reads it when it shadows L4
        rig.pte(L3, 0, GpuPte.make(L2, true));
        rig.pte(L2, 0, GpuPte.make(L1, true));
        gpu.setRoot(0, L4);
    }

    private long[] tracked() {
        return rig.track.tracked(rig.vm).stream().filter(p -> p.owners().containsKey(GpuRig.BSN))
                .mapToLong(TrackedPage::gfn).toArray();
    }

    @Test
    void settingTheRootShadowsAndWriteProtectsEveryReachableTable() {
        build();
        assertArrayEquals(new long[] {L4, L3, L2, L1}, tracked());
        assertEquals(4, gpu.stats().trackedPages());
        assertEquals(GpuEngine.FAULT, gpu.translate(0, 0)[0], "no leaf yet");
        rig.pte(L1, 5, GpuPte.make(DATA + 5, true)); // trapped: L1 is tracked
        assertArrayEquals(new long[] {GpuEngine.PAGE, DATA + 5}, gpu.translate(0, 5L << 12));
        ShadowTable leaf = gpu.ppgtt().table(L1);
        assertEquals(rig.vm.slotForGfn(DATA + 5).hostFrame(DATA + 5), leaf.pfn[5], "guest gfn -> host frame");
        assertEquals(1, gpu.stats().writesHandled());
    }

    @Test
    void aFourByteWriteReReadsTheWholeEntryFromGuestMemory() {
        build();
        long pte = GpuPte.make(DATA + 7, true);
        rig.write((L1 << 12) + 8 * 3, pte & 0xffff_ffffL, 4); // the low half holds P, RW and the frame
        assertArrayEquals(new long[] {GpuEngine.PAGE, DATA + 7}, gpu.translate(0, 3L << 12));
        rig.write((L1 << 12) + 8 * 3 + 4, 0, 4);
        assertEquals(2, gpu.stats().writesHandled());
        assertEquals(0, gpu.stats().rejections());
    }

    @Test
    void otherSizesAreRejectedAndTheFourthFailureRebuildsTheTable() {
        build();
        long pte = GpuPte.make(DATA + 2, true);
        long gpa = (L1 << 12) + 8 * 9;
        for (int k = 0; k < 3; k++) {
            rig.write(gpa + 2L * k, (pte >>> (16 * k)) & 0xffff, 2);
        }
        assertEquals(3, gpu.stats().rejections());
        assertEquals(GpuEngine.FAULT, gpu.translate(0, 9L << 12)[0], "rejected writes leave the shadow as it was");
        assertEquals(3, gpu.ppgtt().table(L1).failures);
        assertEquals(0, gpu.stats().rebuilds());
        rig.write(gpa + 6, (pte >>> 48) & 0xffff, 2); // the fourth failure: more than 3
        assertEquals(4, gpu.stats().rejections());
        assertEquals(1, gpu.stats().rebuilds());
        assertEquals(0, gpu.ppgtt().table(L1).failures, "failures start over after a rebuild");
        assertArrayEquals(new long[] {GpuEngine.PAGE, DATA + 2}, gpu.translate(0, 9L << 12),
                "the rebuild read the entry the guest wrote in pieces");
    }

    @Test
    void invalidEntriesAreNotPresentAndCountAsFailures() {
        build();
        rig.pte(L1, 1, GpuPte.make(DATA, true) | (1L << 5)); // a reserved bit
        assertEquals(GpuEngine.FAULT, gpu.translate(0, 1L << 12)[0]);
        assertEquals(1, gpu.stats().invalidEntries());
        assertEquals(1, gpu.ppgtt().table(L1).failures);
        for (int k = 0; k < 3; k++) {
            rig.pte(L1, 2 + k, GpuPte.P | 1L << 60); // three more: the table is rebuilt (and the entries stay invalid)
        }
        assertEquals(1, gpu.stats().rebuilds());
        assertEquals(0, gpu.stats().violations());
    }

    @Test
    void entriesOutsideTheMemslotsOrAtPagesNotGivenToTheGpuMapScratchAndCountViolations() {
        build();
        rig.pte(L1, 0, GpuPte.make(0xa0, true));    // the legacy hole: no memslot
        rig.pte(L1, 1, GpuPte.make(SECRET, true));  // guest RAM the driver never gave to the GPU
        rig.pte(L1, 2, GpuPte.make(L3, true));      // a page table as data: never
        rig.pte(L2, 1, GpuPte.make(DATA, true));    // a data page as a table: never
        assertEquals(4, gpu.stats().violations());
        for (long va : new long[] {0, 1L << 12, 2L << 12, 1L << 21}) {
            assertEquals(GpuEngine.SCRATCH, gpu.translate(0, va)[0], "gva 0x" + Long.toHexString(va));
        }
        assertArrayEquals(new long[] {L4, L3, L2, L1}, tracked(), "nothing else was shadowed");
    }

    @Test
    void revokingAPageSendsItsEntriesToScratchAndATableIsUnshadowedAndUntracked() {
        build();
        rig.pte(L1, 0, GpuPte.make(DATA, true));
        gpu.revoke(DATA);
        assertEquals(GpuEngine.SCRATCH, gpu.translate(0, 0)[0]);
        gpu.revoke(L2);
        assertArrayEquals(new long[] {L4, L3}, tracked(), "L2 and L1 are no longer reachable");
        assertFalse(rig.track.isActive(rig.vm, L1, TrackMode.WRITE));
        assertEquals(2, gpu.stats().violations());
        assertEquals(2, gpu.stats().tablesUnshadowed());
    }

    @Test
    void aDeletedSlotTakesItsTablesAndPagesWithIt() {
        build();
        long t1 = GpuRig.SLOT2_BASE, d = GpuRig.SLOT2_BASE + 1;
        gpu.grantTable(t1, 1);
        gpu.grantData(d);
        rig.pte(L2, 1, GpuPte.make(t1, true));
        rig.pte(t1, 0, GpuPte.make(d, true));
        rig.pte(L1, 0, GpuPte.make(d, true));
        assertArrayEquals(new long[] {GpuEngine.PAGE, d}, gpu.translate(0, 1L << 21));
        assertTrue(rig.track.isActive(rig.vm, t1, TrackMode.WRITE));
        rig.vm.deleteSlot(2); // track_remove_region
        assertEquals(GpuEngine.SCRATCH, gpu.translate(0, 1L << 21)[0]);
        assertEquals(GpuEngine.SCRATCH, gpu.translate(0, 0)[0], "no shadow entry keeps a page of the deleted slot");
        assertArrayEquals(new long[] {L4, L3, L2, L1}, tracked());
        assertEquals(1, gpu.stats().regionsRemoved());
        assertEquals(4, gpu.stats().trackedPages());
    }

    @Test
    void detachingGivesBackEveryTrack() {
        build();
        rig.pte(L1, 0, GpuPte.make(DATA, true));
        rig.gpus.detach(rig.vm);
        assertEquals(List.of(), rig.track.tracked(rig.vm));
        assertThrows(VmException.class, () -> gpu.setRoot(0, L4));
        assertThrows(VmException.class, () -> rig.gpus.require(rig.vm));
    }

    @Test
    void aPageIsDataOrATableNotBoth() {
        gpu.grantData(DATA);
        VmException e = assertThrows(VmException.class, () -> gpu.grantTable(DATA, 1));
        assertEquals("gfn 0x300 is already given to the GPU as a data page: revoke it first, a page is a data page"
                + " or a page table, not both", e.getMessage());
        assertThrows(VmException.class, () -> gpu.grantTable(L1, 5));
        assertThrows(VmException.class, () -> gpu.setRoot(4, L4));
    }

    @Test
    void aRootThatIsNotAGivenLevelFourTableIsScratch() {
        gpu.grantTable(L3, 3);
        gpu.setRoot(1, L3);
        assertEquals(GpuEngine.SCRATCH, gpu.translate(1, 0)[0]);
        assertEquals(1, gpu.stats().violations());
        assertEquals(0, tracked().length);
        gpu.setRoot(1, 0);
        assertEquals(GpuEngine.FAULT, gpu.translate(1, 0)[0]);
    }

    @Test
    void aTableStillReachableAfterARebuildIsNotTornDownInBetween() {
        build();
        long other = 0x204;
        gpu.grantTable(other, 1);
        rig.vm.memory().write(L1 << 12, GpuPte.make(DATA, true), 8);          // host-side: the shadow of L1 stays stale
        rig.vm.memory().write(L2 << 12, GpuPte.make(other, true), 8);         // entry 0: L1 -> other
        rig.vm.memory().write((L2 << 12) + 8, GpuPte.make(L1, true), 8);      // entry 1: -> L1
        for (int k = 0; k < 4; k++) {
            rig.write((L2 << 12) + 8 * 5 + 2 * k, 0, 2);                      // four rejections: rebuild L2
        }
        assertEquals(1, gpu.stats().rebuilds());
        assertEquals(0, gpu.stats().tablesUnshadowed(), "L1 moved from entry 0 to entry 1 without being unshadowed");
        assertEquals(GpuEngine.FAULT, gpu.translate(0, 1L << 21)[0], "so its stale view was not re-read");
        assertArrayEquals(new long[] {L4, L3, L2, L1, other}, tracked());
    }
}
