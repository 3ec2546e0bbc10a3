package org.shadowbox.vm.internal;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.spi.SlotChange;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.spi.VmListener;
import org.shadowbox.vm.VmSpec;

class MemslotLifecycleTest {
    private final HypervisorImpl hv = new HypervisorImpl();
    private final List<String> events = new ArrayList<>();
    private final Vm vm;

    MemslotLifecycleTest() {
        hv.addVmListener(new VmListener() {
            @Override
            public void vmCreated(Vm v) {
                events.add("created " + v.name());
            }

            @Override
            public void prepareSlotChange(Vm v, SlotChange c) {
                events.add("prepare " + c.kind() + " " + slotsSeen(v));
            }

            @Override
            public void commitSlotChange(Vm v, SlotChange c) {
                events.add("commit " + c.kind() + " " + slotsSeen(v));
            }
        });
        vm = hv.createVm(VmSpec.pc("pc", 1L << 30, 2));
        events.clear();
    }

    private static String slotsSeen(Vm v) {
        return v.memslots().stream().map(s -> s.id() + "@" + Long.toHexString(s.baseGfn())).toList().toString();
    }

    @Test
    void thePcLayoutHasTheLegacyHole() {
        List<Memslot> slots = vm.memslots();
        assertEquals(2, slots.size());
        assertEquals(0, slots.get(0).baseGfn());
        assertEquals(0xa0, slots.get(0).npages());
        assertEquals(0x100, slots.get(1).baseGfn());
        assertEquals(0x40000, slots.get(1).endGfn());
        assertNull(vm.slotForGfn(0xa0));
        assertNull(vm.slotForGfn(0xff));
        assertSame(slots.get(1), vm.slotForGfn(0x3ffff));
        assertNull(vm.slotForGfn(0x40000));
        assertNull(vm.slotForGfn(-1));
    }

    @Test
    void changesAreCheckedThenPreparedThenInstalledThenCommitted() {
        vm.createSlot(new SlotSpec(2, 0x100000, 16, 0));
        vm.moveSlot(2, 0x200000);
        vm.deleteSlot(2);
        assertEquals(List.of(
                "prepare CREATE [0@0, 1@100]", "commit CREATE [0@0, 1@100, 2@100000]",
                "prepare MOVE [0@0, 1@100, 2@100000]", "commit MOVE [0@0, 1@100, 2@200000]",
                "prepare DELETE [0@0, 1@100, 2@200000]", "commit DELETE [0@0, 1@100]"), events);
    }

    @Test
    void badRequestsAreRefusedInOneLineAndChangeNothing() {
        List<Memslot> before = vm.memslots();
        assertRefused("slot [0x90, 0xb0) overlaps slot 0 [0x0, 0xa0) of VM pc",
                () -> vm.createSlot(new SlotSpec(3, 0x90, 0x20, 0)));
        assertRefused("bad slot size of 0 pages: accepted 1 to 0x7fffffff pages",
                () -> vm.createSlot(new SlotSpec(3, 0x50000, 0, 0)));
        assertRefused("slot [0x3ffffffff, 0x400000001) passes the guest physical address width: MAXPHYADDR 46 allows"
                + " gfns below 0x400000000", () -> vm.createSlot(new SlotSpec(3, 0x3_ffff_ffffL, 2, 0)));
        assertRefused("slot 1 already exists in VM pc [0x100, 0x40000): delete it first or use a free id",
                () -> vm.createSlot(new SlotSpec(1, 0x50000, 1, 0)));
        assertRefused("bad slot id 512: accepted 0 to 511", () -> vm.createSlot(new SlotSpec(512, 0x50000, 1, 0)));
        assertRefused("bad slot id -1: accepted 0 to 511", () -> vm.createSlot(new SlotSpec(-1, 0x50000, 1, 0)));
        assertRefused("bad slot flags 0x4: accepted 0x1 (dirty logging) and 0x2 (read-only)",
                () -> vm.createSlot(new SlotSpec(3, 0x50000, 1, 4)));
        assertRefused("no slot 7 in VM pc: its slots are 0, 1", () -> vm.deleteSlot(7));
        assertRefused("no slot 7 in VM pc: its slots are 0, 1", () -> vm.moveSlot(7, 0));
        assertRefused("slot [0x50, 0x3ff50) overlaps slot 0 [0x0, 0xa0) of VM pc", () -> vm.moveSlot(1, 0x50));
        VmException neg = assertThrows(VmException.class, () -> vm.moveSlot(0, -1));
        assertTrue(neg.getMessage().endsWith("passes the guest physical address width: MAXPHYADDR 46 allows gfns"
                + " below 0x400000000"), neg.getMessage());
        assertEquals(before, vm.memslots());
        assertTrue(events.isEmpty(), "no listener heard of a refused change: " + events);
    }

    @Test
    void aListenerCanRefuseAndThenNothingChanges() {
        hv.addVmListener(new VmListener() {
            @Override
            public void prepareSlotChange(Vm v, SlotChange c) {
                if (c.kind() == SlotChange.Kind.MOVE) {
                    throw new VmException("no moves today");
                }
            }
        });
        Memslot before = vm.slot(1);
        VmException e = assertThrows(VmException.class, () -> vm.moveSlot(1, 0x80000));
        assertEquals("no moves today", e.getMessage());
        assertSame(before, vm.slot(1));
        assertTrue(events.stream().noneMatch(s -> s.startsWith("commit")));
    }

    @Test
    void aMoveKeepsTheMemoryAndStartsWithFreshArchData() {
        vm.memory().write(0x100_000, 0xfeed, 8);
        Memslot old = vm.slot(1);
        Platform.slot(old).gfnTrack(0).add(0x100, 1);
        Platform.slot(old).updateLpageDisallow(0x100, 1);
        Memslot moved = vm.moveSlot(1, 0x80100); // keeps gfn and host frame aligned alike mod 2M
        assertNotSame(old, moved);
        assertEquals(0xfeed, vm.memory().read(0x80100L << 12, 8), "the memory moved with the slot");
        assertEquals(0xffff_ffffL, vm.memory().read(0x100_000, 4), "the old place is a hole now");
        assertEquals(0, Platform.slot(moved).gfnTrack(0).count(0x80100), "page-track counters start at zero");
        assertEquals(0, moved.lpageDisallowCount(0x80200, Memslot.LEVEL_2M), "lpage counts start afresh");
        assertEquals(old.hostFrame(0x100), moved.hostFrame(0x80100), "same host memory");
    }

    @Test
    void aDeletedSlotsMemoryIsGone() {
        vm.createSlot(new SlotSpec(4, 0x100000, 4, 0));
        vm.memory().write(0x100000L << 12, 3, 1);
        vm.deleteSlot(4);
        assertEquals(0xff, vm.memory().read(0x100000L << 12, 1));
        vm.createSlot(new SlotSpec(4, 0x100000, 4, 0));
        assertEquals(0, vm.memory().read(0x100000L << 12, 1), "a new slot starts zeroed");
    }

    @Test
    void aDestroyedVmRefusesChanges() {
        hv.destroyVm("pc");
        assertTrue(vm.destroyed());
        assertRefused("VM pc was destroyed", () -> vm.createSlot(new SlotSpec(9, 0x900000, 1, 0)));
        assertRefused("no VM named 'pc': the VMs are none (create one with vm:create)", () -> hv.require("pc"));
    }

    @Test
    void aBadVmSpecChangesNothing() {
        VmSpec bad = new VmSpec("bad", 1, List.of(new SlotSpec(0, 0, 16, 0), new SlotSpec(1, 8, 16, 0)), 46);
        assertRefused("slot [0x8, 0x18) overlaps slot 0 [0x0, 0x10) of VM bad", () -> hv.createVm(bad));
        assertTrue(hv.vm("bad").isEmpty());
        assertTrue(events.isEmpty(), events.toString());
        assertRefused("a VM named pc exists already: choose another name", () -> hv.createVm(VmSpec.pc("pc", 1L << 30, 1)));
    }

    @Test
    void listenersBoundLaterHearOfExistingVms() {
        List<String> late = new ArrayList<>();
        hv.addVmListener(new VmListener() {
            @Override
            public void vmCreated(Vm v) {
                late.add(v.name());
            }
        });
        assertEquals(List.of("pc"), late);
    }

    private static void assertRefused(String message, Runnable r) {
        VmException e = assertThrows(VmException.class, r::run);
        assertEquals(message, e.getMessage());
    }
}
