package org.shadowbox.pagetrack.internal;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.pagetrack.TrackMode.WRITE;
import static org.shadowbox.vm.Memslot.LEVEL_1G;
import static org.shadowbox.vm.Memslot.LEVEL_2M;

import java.util.concurrent.locks.ReentrantLock;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/** kvm_slot_page_track_add_page / remove_page / is_active on one slot's counters. */
class CountersTest {
    private final Rig rig = new Rig();
    private final Vm vm = rig.pc("c");
    private final OwnerTrack pt = rig.core.forOwner("test.owner");
    private final long gfn = 0x1234;
    private final Memslot slot = vm.slotForGfn(gfn);

    @Test
    void addAndRemoveMoveTheCountAndTheLargePageCounts() {
        int l2 = slot.lpageDisallowCount(gfn, LEVEL_2M);
        int l3 = slot.lpageDisallowCount(gfn, LEVEL_1G);
        assertFalse(pt.isActive(vm, gfn, WRITE));
        assertTrue(pt.add(vm, gfn, WRITE));
        assertTrue(pt.add(vm, gfn, WRITE));
        assertEquals(2, pt.count(vm, gfn, WRITE));
        assertTrue(pt.isActive(vm, gfn, WRITE));
        assertFalse(pt.isActive(vm, gfn + 1, WRITE), "a neighbour is not tracked");
        assertEquals(l2 + 2, slot.lpageDisallowCount(gfn, LEVEL_2M));
        assertEquals(l3 + 2, slot.lpageDisallowCount(gfn, LEVEL_1G));
        assertTrue(pt.remove(vm, gfn, WRITE));
        assertTrue(pt.remove(vm, gfn, WRITE));
        assertEquals(0, pt.count(vm, gfn, WRITE));
        assertFalse(pt.isActive(vm, gfn, WRITE));
        assertEquals(l2, slot.lpageDisallowCount(gfn, LEVEL_2M));
        assertEquals(l3, slot.lpageDisallowCount(gfn, LEVEL_1G));
    }

    @Test
    void addAtTheBoundIsRefusedButStillDisallowsLargePages() {
        for (int i = 0; i < SlotPageTrack.MAX_COUNT; i++) {
            assertTrue(pt.add(vm, gfn, WRITE), "add " + i);
        }
        assertEquals(65535, pt.count(vm, gfn, WRITE));
        int l2 = slot.lpageDisallowCount(gfn, LEVEL_2M);
        int l3 = slot.lpageDisallowCount(gfn, LEVEL_1G);
        assertFalse(pt.add(vm, gfn, WRITE), "the 65536th add is refused");
        assertEquals(65535, pt.count(vm, gfn, WRITE), "count unchanged");
        assertEquals(l2 + 1, slot.lpageDisallowCount(gfn, LEVEL_2M), "KVM's asymmetry: 2M count still moves");
        assertEquals(l3 + 1, slot.lpageDisallowCount(gfn, LEVEL_1G), "KVM's asymmetry: 1G count still moves");
        assertEquals(65535, pt.tracked(vm).get(0).owners().get("test.owner"), "the refused add is not owned");
    }

    @Test
    void removeAtZeroIsRefusedButStillAllowsLargePages() {
        int l2 = slot.lpageDisallowCount(gfn, LEVEL_2M);
        pt.add(vm, gfn, WRITE);
        // Someone else (a buggy MMU) took the slot's count to 0 behind page track's back.
        ReentrantLock lock = Platform.mmuLock(vm);
        lock.lock();
        try {
            Platform.slot(slot).gfnTrack(WRITE.ordinal()).add(gfn, -1);
        } finally {
            lock.unlock();
        }
        assertEquals(l2 + 1, slot.lpageDisallowCount(gfn, LEVEL_2M));
        assertFalse(pt.remove(vm, gfn, WRITE), "remove below 0 is refused");
        assertEquals(0, pt.count(vm, gfn, WRITE), "count unchanged");
        assertEquals(l2, slot.lpageDisallowCount(gfn, LEVEL_2M), "the lpage count still moves");
        assertThrows(VmException.class, () -> pt.remove(vm, gfn, WRITE), "the owner's claim is gone");
        assertEquals(l2, slot.lpageDisallowCount(gfn, LEVEL_2M));
    }

    @Test
    void gfnsInNoSlotAreNeverActiveAndRefusedForAddAndRemove() {
        for (long hole : new long[] {0xa0, 0xff, 64L << 8, -1, vm.gfnLimit(), Long.MAX_VALUE}) {
            assertFalse(pt.isActive(vm, hole, WRITE), "0x" + Long.toHexString(hole));
            assertEquals(0, pt.count(vm, hole, WRITE));
        }
        VmException e = assertThrows(VmException.class, () -> pt.add(vm, 0xa0, WRITE));
        assertEquals("cannot track gfn 0xa0: it is in no memslot of VM c; its memslots are 0 [0x0-0x9f],"
                + " 1 [0x100-0x3fff]", e.getMessage());
        assertThrows(VmException.class, () -> pt.remove(vm, 0xa0, WRITE));
        assertTrue(pt.tracked(vm).isEmpty(), "a refused add changed nothing");
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aMissingModeIsRefused() {
        VmException e = assertThrows(VmException.class, () -> pt.add(vm, gfn, null));
        assertEquals("no track mode given: accepted write", e.getMessage());
        assertEquals(0, pt.count(vm, gfn, WRITE));
    }

    @Test
    void aDestroyedVmRefusesTracking() {
        pt.add(vm, gfn, WRITE);
        rig.hv.destroyVm("c");
        VmException e = assertThrows(VmException.class, () -> pt.add(vm, gfn, WRITE));
        assertTrue(e.getMessage().startsWith("VM c is destroyed"), e.getMessage());
        assertTrue(pt.tracked(vm).isEmpty());
        assertTrue(pt.notifiers(vm).isEmpty());
    }
}
