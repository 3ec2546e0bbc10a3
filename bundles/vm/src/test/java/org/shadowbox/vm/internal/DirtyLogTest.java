package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/** KVM_MEM_LOG_DIRTY_PAGES and KVM_GET_DIRTY_LOG. */
class DirtyLogTest {
    private final Vm vm = new HypervisorImpl().createVm(VmSpec.pc("d", 16L << 20, 1));

    @Test
    void everyKindOfWriteIsLoggedOnceAndHarvestingClears() {
        Memslot s = vm.createSlot(new SlotSpec(2, 0x10_0000, 0x2000, Memslot.LOG_DIRTY_PAGES));
        long base = 0x10_0000L << 12;
        vm.memory().write(base + 0x5008, 1, 8);                   // host-side: kvm_write_guest marks too
        vm.vcpu(0).emulatorWritePhys(base + 0x1ffe, 0x1122, 4);  // crosses into the next page
        vm.memory().write(base + 0x3000, new byte[10], 0, 10);    // bulk
        vm.memory().write(base + 0x5010, 2, 8);                   // the same page again
        vm.vcpu(0).emulatorCmpxchg(base + 0x1800_000L, 5, 6, 8);  // fails: not dirty
        org.shadowbox.vm.spi.Platform.slot(s).markPageDirty(0x10_1fff);                               // a direct writer marks by hand
        assertArrayEquals(new long[] {0x10_0001, 0x10_0002, 0x10_0003, 0x10_0005, 0x10_1fff}, s.getDirtyLog());
        assertArrayEquals(new long[0], s.getDirtyLog(), "harvesting clears the log");
        vm.memory().read(base, 8);
        vm.memory().write(base + 0x5000, 3, 1);
        assertArrayEquals(new long[] {0x10_0005}, s.getDirtyLog(), "reads are not logged");
    }

    @Test
    void aSlotWithoutTheFlagLogsNothing() {
        vm.memory().write(0x100_000, 1, 8);
        assertArrayEquals(new long[0], vm.slot(1).getDirtyLog());
    }

    @Test
    void aSuccessfulCmpxchgIsLogged() {
        Memslot s = vm.createSlot(new SlotSpec(3, 0x20_0000, 16, Memslot.LOG_DIRTY_PAGES));
        vm.vcpu(0).emulatorCmpxchg((0x20_0004L << 12) + 8, 0, 9, 8);
        assertArrayEquals(new long[] {0x20_0004}, s.getDirtyLog());
    }
}
