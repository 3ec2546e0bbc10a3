package org.shadowbox.vm.internal;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/** lpage_info as kvm_alloc_memslot_metadata sets it up, and update_gfn_disallow_lpage_count. */
class LpageInfoTest {
    private final HypervisorImpl hv = new HypervisorImpl();
    private final Vm vm = hv.createVm(VmSpec.pc("l", 1L << 30, 1));

    @Test
    void framesAtUnalignedSlotEdgesAreAlwaysDisallowed() {
        Memslot low = vm.slot(0); // gfn 0x0 to 0x9f: a 2M frame it does not cover whole
        assertEquals(1, low.lpageDisallowCount(0x0, Memslot.LEVEL_2M));
        assertEquals(1, low.lpageDisallowCount(0x0, Memslot.LEVEL_1G));
        Memslot high = vm.slot(1); // 0x100 to 0x3ffff: head frame partial, tail aligned
        assertEquals(1, high.lpageDisallowCount(0x100, Memslot.LEVEL_2M));
        assertEquals(0, high.lpageDisallowCount(0x200, Memslot.LEVEL_2M));
        assertEquals(0, high.lpageDisallowCount(0x3ffff, Memslot.LEVEL_2M));
        assertEquals(1, high.lpageDisallowCount(0x100, Memslot.LEVEL_1G), "the one 1G frame starts at gfn 0");
    }

    @Test
    void updatesMoveEveryLargeLevelOfTheFrame() {
        Memslot s = vm.createSlot(new SlotSpec(2, 0x80000, 0x80000, 0)); // 2 GiB..4 GiB, aligned
        assertEquals(0, s.lpageDisallowCount(0x80123, Memslot.LEVEL_2M));
        Platform.slot(s).updateLpageDisallow(0x80123, 1);
        Platform.slot(s).updateLpageDisallow(0x80124, 1);
        assertEquals(2, s.lpageDisallowCount(0x80000, Memslot.LEVEL_2M));
        assertEquals(2, s.lpageDisallowCount(0x80000, Memslot.LEVEL_1G));
        assertEquals(0, s.lpageDisallowCount(0x80200, Memslot.LEVEL_2M), "the next 2M frame is untouched");
        assertEquals(2, s.lpageDisallowCount(0xbffff, Memslot.LEVEL_1G), "the same 1G frame");
        Platform.slot(s).updateLpageDisallow(0x80123, -1);
        Platform.slot(s).updateLpageDisallow(0x80124, -1);
        assertEquals(0, s.lpageDisallowCount(0x80000, Memslot.LEVEL_1G));
        assertThrows(IllegalStateException.class, () -> Platform.slot(s).updateLpageDisallow(0x80123, -1));
        assertEquals(0, s.lpageDisallowCount(0x80000, Memslot.LEVEL_2M), "a refused update changed nothing");
    }

    @Test
    void aSlotMovedOutOfHostAlignmentDisallowsEveryFrame() {
        Memslot s = vm.createSlot(new SlotSpec(2, 0x80000, 0x1000, 0));
        assertEquals(0, s.lpageDisallowCount(0x80400, Memslot.LEVEL_2M));
        Memslot moved = vm.moveSlot(2, 0x90001); // gfn and host frame no longer agree mod 512
        assertEquals(1, moved.lpageDisallowCount(0x90401, Memslot.LEVEL_2M));
        Memslot back = vm.moveSlot(2, 0xa0000); // agree again mod 512, not mod 2^18
        assertEquals(0, back.lpageDisallowCount(0xa0400, Memslot.LEVEL_2M));
        assertEquals(1, back.lpageDisallowCount(0xa0400, Memslot.LEVEL_1G));
    }

    @Test
    void gfnTrackCountersAreAllocatedLazily() {
        Memslot s = vm.slot(1);
        long before = Platform.slot(s).gfnTrack(0).allocatedBytes();
        assertEquals(0, Platform.slot(s).gfnTrack(0).count(0x1234));
        assertEquals(before, Platform.slot(s).gfnTrack(0).allocatedBytes(), "reading allocates nothing");
        assertEquals(1, Platform.slot(s).gfnTrack(0).add(0x1234, 1));
        long one = Platform.slot(s).gfnTrack(0).allocatedBytes();
        Platform.slot(s).gfnTrack(0).add(0x1235, 1);
        assertEquals(one, Platform.slot(s).gfnTrack(0).allocatedBytes(), "a neighbour shares the chunk");
        Platform.slot(s).gfnTrack(0).add(0x3f000, 1);
        assertEquals(16 + 2L * GfnTrackImpl.CHUNK, Platform.slot(s).gfnTrack(0).allocatedBytes() - one,
                "a far page costs one more chunk of 16-bit counters");
        assertEquals(before, Platform.slot(s).gfnTrack(1).allocatedBytes(), "another mode has its own, still empty, counters");
    }

    @Test
    void aHugeSlotCostsNothingUntilUsed() {
        Vm big = hv.createVm(new VmSpec("big", 1, java.util.List.of(new SlotSpec(0, 0, (1L << 31) - 1, 0)), 46));
        Memslot s = big.slot(0);
        assertEquals(0, s.lpageDisallowCount(0x7000_0000L, Memslot.LEVEL_2M));
        assertEquals(1, s.lpageDisallowCount(0x7fff_fffeL, Memslot.LEVEL_2M), "tail frame partial");
        assertEquals(true, Platform.slot(s).gfnTrack(0).allocatedBytes() < 8192, "directory only: " + Platform.slot(s).gfnTrack(0).allocatedBytes());
    }
}
