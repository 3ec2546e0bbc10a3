package org.shadowbox.pagetrack.internal;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.pagetrack.TrackMode.WRITE;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vm;

/** Tracking metadata is allocated lazily and grows with the tracked ranges, not the guest size. */
class LazyAllocationTest {
    private final Rig rig = new Rig();
    private final OwnerTrack pt = rig.core.forOwner("lazy");

    private static long bytes(Vm vm, long gfn) {
        return Platform.slot(vm.slotForGfn(gfn)).gfnTrack(WRITE.ordinal()).allocatedBytes();
    }

    @Test
    void aSlotCostsNothingUntilItsFirstTrackedPage() {
        Vm vm = rig.pc("small");
        long before = bytes(vm, 0x100);
        pt.isActive(vm, 0x100, WRITE);
        pt.count(vm, 0x2000, WRITE);
        pt.tracked(vm);
        assertEquals(before, bytes(vm, 0x100), "queries allocate no counters");
        assertTrue(before < 1024, "an untracked slot holds no counter chunk: " + before + " bytes");
        pt.add(vm, 0x100, WRITE);
        assertTrue(bytes(vm, 0x100) > before + 2 * 1024, "the first track allocates a chunk of counters");
    }

    @Test
    void memoryGrowsWithTrackedRangesNotWithGuestSize() {
        Vm small = rig.pc("g1", 1L << 30);
        Vm huge = rig.pc("t1", 1L << 40);
        long smallBase = bytes(small, 0x100);
        long hugeBase = bytes(huge, 0x100);
        assertTrue(hugeBase < 4096, "a 1 TiB slot costs " + hugeBase + " bytes before tracking");

        for (long gfn = 0x1000; gfn < 0x1100; gfn++) {
            pt.add(small, gfn, WRITE);
            pt.add(huge, gfn, WRITE);
        }
        long oneRangeSmall = bytes(small, 0x100) - smallBase;
        long oneRangeHuge = bytes(huge, 0x100) - hugeBase;
        assertEquals(oneRangeSmall, oneRangeHuge, "the same tracked range costs the same in 1 GiB and 1 TiB");

        pt.add(huge, 0xc00_0000L, WRITE); // far away: 768 GiB into the guest
        long twoRanges = bytes(huge, 0x100) - hugeBase;
        assertTrue(twoRanges > oneRangeHuge, "a second range adds its own chunk");
        assertTrue(twoRanges < 3 * oneRangeHuge + 4096, "and only that: " + twoRanges + " bytes");
        assertTrue(twoRanges < (1L << 40 >> 12) * 2 / 1000, "far below KVM's eager 2 bytes per page");
        assertTrue(Platform.slot(huge.slotForGfn(0x100)).gfnTrack(1).allocatedBytes() < 4096, "other modes stay empty");
    }
}
