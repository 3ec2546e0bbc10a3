package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.pagetrack.TrackMode.WRITE;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/** Counters are born and die with their slot; delete tells notifiers once; move is refused for external tracks. */
class SlotLifecycleTest {
    private final Rig rig = new Rig();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Vm vm;
    private final OwnerTrack ext = rig.core.forOwner("ext");
    private final OwnerTrack mmu = rig.core.forOwner("mmu", TrackerRole.MMU);

    SlotLifecycleTest() {
        rig.core.register(new Rig.Recorder("a", log), "bundle.a");
        rig.core.register(new Rig.Recorder("b", log), "bundle.b");
        vm = rig.pc("s");
        vm.createSlot(new SlotSpec(2, 0x10000, 0x400, 0));
    }

    @Test
    void manyVmsCreatedAndDestroyedOneAfterTheOtherCostNoMoreThanTheLiveOnes() {
        // The per-VM state array once doubled at every VM created: 40 VMs made it 2^40 entries.
        for (int i = 0; i < 200; i++) {
            Vm v = rig.pc("many" + i, 2L << 20);
            ext.add(v, 0x10, WRITE);
            assertTrue(ext.isActive(v, 0x10, WRITE));
            rig.hv.destroyVm(v.name());
        }
        assertEquals(1, rig.core.states().size(), "only VM s is left");
    }

    @Test
    void aNewSlotStartsWithZeroCounters() {
        for (long gfn = 0x10000; gfn < 0x10400; gfn += 0x3f) {
            assertFalse(ext.isActive(vm, gfn, WRITE));
        }
        assertTrue(ext.tracked(vm).isEmpty());
        assertTrue(log.isEmpty(), "creating slots tells notifiers nothing: " + log);
    }

    @Test
    void aCommittedDeleteDropsTheCountsAndTellsEveryNotifierOnce() {
        ext.add(vm, 0x10010, WRITE);
        mmu.add(vm, 0x10011, WRITE);
        ext.add(vm, 0x200, WRITE); // another slot: survives
        vm.deleteSlot(2);
        assertEquals(List.of("b:remove s 0x10000+1024", "a:remove s 0x10000+1024"), log, "once each, newest first");
        assertFalse(ext.isActive(vm, 0x10010, WRITE));
        assertThrows(VmException.class, () -> ext.remove(vm, 0x10010, WRITE), "the gfn is in no slot now");
        assertEquals(1, ext.tracked(vm).size());
        assertEquals(0x200, ext.tracked(vm).get(0).gfn());

        vm.createSlot(new SlotSpec(2, 0x10000, 0x400, 0));
        assertFalse(ext.isActive(vm, 0x10010, WRITE), "a new slot at the same place starts at zero");
        VmException e = assertThrows(VmException.class, () -> ext.remove(vm, 0x10010, WRITE));
        assertTrue(e.getMessage().contains("holds no write track of gfn 0x10010"), e.getMessage());
        assertEquals(2, log.size(), "re-creating delivers nothing");
    }

    @Test
    void aDeleteWithoutTrackedPagesStillDeliversTheRegionOnce() {
        vm.deleteSlot(2);
        assertEquals(List.of("b:remove s 0x10000+1024", "a:remove s 0x10000+1024"), log);
    }

    @Test
    void aMoveIsRefusedWhileExternalOwnersHoldPagesInTheSlot() {
        ext.add(vm, 0x10001, WRITE);
        ext.add(vm, 0x10001, WRITE);
        ext.add(vm, 0x10002, WRITE);
        rig.core.forOwner("other").add(vm, 0x10003, WRITE);
        mmu.add(vm, 0x10004, WRITE);
        VmException e = assertThrows(VmException.class, () -> vm.moveSlot(2, 0x20000));
        assertEquals("cannot move slot 2 of VM s: external trackers hold tracked pages in it (owner ext: 2 pages,"
                + " owner other: 1 page); remove them first", e.getMessage());
        Memslot still = vm.slot(2);
        assertEquals(0x10000, still.baseGfn(), "nothing moved");
        assertEquals(2, ext.count(vm, 0x10001, WRITE), "nothing lost");
        assertEquals(1, ext.count(vm, 0x10004, WRITE));
        assertTrue(log.isEmpty(), "a refused move delivers nothing");
        // Tracks in another slot do not block the move.
        ext.remove(vm, 0x10001, WRITE);
        ext.remove(vm, 0x10001, WRITE);
        ext.remove(vm, 0x10002, WRITE);
        ext.add(vm, 0x300, WRITE);
        assertThrows(VmException.class, () -> vm.moveSlot(2, 0x20000), "owner other still holds a page");
    }

    @Test
    void aMoveWithOnlyMmuTracksSucceedsWithZeroedCounters() {
        mmu.add(vm, 0x10004, WRITE);
        mmu.add(vm, 0x10005, WRITE);
        ext.add(vm, 0x300, WRITE);
        Memslot old = vm.slot(2);
        int oldLpage = old.lpageDisallowCount(0x10004, Memslot.LEVEL_2M);
        Memslot moved = vm.moveSlot(2, 0x20000);
        assertEquals(0x20000, moved.baseGfn());
        for (long gfn = 0x20000; gfn < 0x20400; gfn++) {
            assertEquals(0, mmu.count(vm, gfn, WRITE), "zeroed at 0x" + Long.toHexString(gfn));
        }
        assertFalse(mmu.isActive(vm, 0x10004, WRITE), "the old range is a hole now");
        assertThrows(VmException.class, () -> mmu.remove(vm, 0x20004, WRITE), "the MMU's old tracks are gone");
        assertEquals(List.of(0x300L), mmu.tracked(vm).stream().map(t -> t.gfn()).toList());
        assertEquals(oldLpage, old.lpageDisallowCount(0x10004, Memslot.LEVEL_2M), "the old slot object was left alone");
        assertTrue(log.isEmpty(), "a move is not a delete");
        mmu.release();
        ext.release();
        assertTrue(ext.tracked(vm).isEmpty());
    }

    @Test
    void aMoveWithNoTracksSucceeds() {
        assertEquals(0x30000, vm.moveSlot(2, 0x30000).baseGfn());
        ext.add(vm, 0x30001, WRITE);
        assertTrue(ext.isActive(vm, 0x30001, WRITE));
    }
}
