package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/** The emulator's write path: emulator_write_phys and emulator_cmpxchg_emulated. */
class EmulatorWriteTest {
    record Seen(int vcpu, long gpa, long value, int bytes, long memoryAtCall) {
    }

    private final HypervisorImpl hv = new HypervisorImpl();
    private final List<Seen> seen = new ArrayList<>();
    private final Vm vm;

    EmulatorWriteTest() {
        hv.addWriteListener(new EmulatedWriteListener() {
            @Override
            public void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes) {
                // What memory holds when the listener runs: KVM notifies after the write.
                long now = vcpu.vm().memory().read(gpa, 1);
                seen.add(new Seen(vcpu.id(), gpa, value, bytes, now));
            }
        });
        vm = hv.createVm(VmSpec.pc("e", 16L << 20, 2));
    }

    @Test
    void anEmulatedWriteIsStoredThenNotified() {
        vm.vcpu(1).emulatorWritePhys(0x123_458, 0xabcdL, 2);
        assertEquals(List.of(new Seen(1, 0x123_458, 0xabcd, 2, 0xcd)), seen);
        assertEquals(0xabcd, vm.memory().read(0x123_458, 2));
        assertEquals(1, vm.stats().emulatedWrites());
    }

    @Test
    void aWriteAcrossAPageIsTwoWritesEachNotified() {
        vm.vcpu(0).emulatorWritePhys(0x200_ffe, 0x4433_2211L, 4);
        assertEquals(List.of(new Seen(0, 0x200_ffe, 0x2211, 2, 0x11), new Seen(0, 0x201_000, 0x4433, 2, 0x33)), seen);
        assertEquals(0x4433_2211L, vm.memory().read(0x200_ffe, 4));
    }

    @Test
    void hostWritesNotifyNobody() {
        vm.memory().write(0x123_000, 5, 8);
        assertTrue(seen.isEmpty());
    }

    @Test
    void writesToHolesAndReadOnlySlotsAreDroppedAsMmioAndNotNotified() {
        vm.createSlot(new SlotSpec(5, 0x2000, 16, Memslot.READONLY));
        vm.memory().write(0x2000_000, 0x77, 1); // the host may fill a read-only slot
        vm.vcpu(0).emulatorWritePhys(0x2000_000, 0x99, 1);
        vm.vcpu(0).emulatorWritePhys(0xa0_000, 0x99, 1);
        assertTrue(seen.isEmpty());
        assertEquals(0x77, vm.memory().read(0x2000_000, 1));
        assertEquals(2, vm.stats().mmioWritesDropped());
    }

    @Test
    void cmpxchgNotifiesOnlyWhenTheExchangeHappened() {
        Vcpu cpu = vm.vcpu(0);
        vm.memory().write(0x300_004, 10, 4);
        assertFalse(cpu.emulatorCmpxchg(0x300_004, 11, 12, 4));
        assertTrue(seen.isEmpty());
        assertEquals(10, vm.memory().read(0x300_004, 4));
        assertTrue(cpu.emulatorCmpxchg(0x300_004, 10, 12, 4));
        assertEquals(List.of(new Seen(0, 0x300_004, 12, 4, 12)), seen);
        assertEquals(1, vm.stats().cmpxchgFailed());
    }

    @Test
    void cmpxchgOfSmallAndUnalignedOperandsTouchesOnlyItsBytes() {
        Vcpu cpu = vm.vcpu(0);
        vm.memory().write(0x300_000, 0x1111_1111_1111_1111L, 8);
        vm.memory().write(0x300_008, 0x2222_2222_2222_2222L, 8);
        assertTrue(cpu.emulatorCmpxchg(0x300_003, 0x11, 0xaa, 1));
        assertEquals(0x1111_1111_aa11_1111L, vm.memory().read(0x300_000, 8));
        assertTrue(cpu.emulatorCmpxchg(0x300_006, 0x2222_1111L, 0x5555_6666L, 4)); // spans two words
        assertEquals(0x6666_1111_aa11_1111L, vm.memory().read(0x300_000, 8));
        assertEquals(0x2222_2222_2222_5555L, vm.memory().read(0x300_008, 8));
    }

    @Test
    void cmpxchgAcrossAPageIsRefused() {
        VmException e = assertThrows(VmException.class, () -> vm.vcpu(0).emulatorCmpxchg(0x300_ffe, 0, 1, 4));
        assertTrue(e.getMessage().contains("crosses a page"), e.getMessage());
        assertEquals(0, vm.memory().read(0x300_ffe, 4));
    }

    @Test
    void aVcpuOutOfRangeIsRefused() {
        VmException e = assertThrows(VmException.class, () -> vm.vcpu(2));
        assertEquals("no vCPU 2 in VM e: accepted 0 to 1", e.getMessage());
    }

    @Test
    void vcpusStartInThePagingModeTheSpecNames() {
        Vm off = hv.createVm(VmSpec.pc("off", 16L << 20, 1).with(VmSpec.PAGING, VmSpec.PAGING_OFF));
        assertEquals(0x6000_0010L, off.vcpu(0).get(Register.CR0), "the architectural reset state");
        assertEquals(0x2L, off.vcpu(0).get(Register.RFLAGS));
        assertEquals(VmSpec.PAGING_64, vm.spec().option(VmSpec.PAGING), "64-bit is the default");
        assertEquals(Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE, vm.vcpu(1).get(Register.EFER));
        assertEquals(Register.CR4_PAE, vm.vcpu(1).get(Register.CR4));
        Vm pae = hv.createVm(VmSpec.pc("pae", 16L << 20, 1).with(VmSpec.PAGING, VmSpec.PAGING_PAE));
        assertEquals(Register.EFER_NXE, pae.vcpu(0).get(Register.EFER));
        Vm b32 = hv.createVm(VmSpec.pc("b32", 16L << 20, 1).with(VmSpec.PAGING, VmSpec.PAGING_32));
        assertEquals(Register.CR4_PSE, b32.vcpu(0).get(Register.CR4));
        assertEquals(0x8001_0011L, b32.vcpu(0).get(Register.CR0));
    }

    @Test
    void unknownOptionsAndValuesAreRefusedInOneLine() {
        assertEquals("bad mmu 'ept': accepted shadow, tdp", assertThrows(VmException.class,
                () -> VmSpec.pc("x", 16L << 20, 1).with(VmSpec.MMU, "ept")).getMessage());
        assertEquals("unknown VM option 'cache': accepted mmu, policy, paging", assertThrows(VmException.class,
                () -> VmSpec.pc("x", 16L << 20, 1).with("cache", "on")).getMessage());
    }

    @Test
    void anOddSizedEmulatedWriteIsOneWrite() {
        vm.vcpu(0).emulatorWritePhys(0x123_401, 0x33_2211L, 3);
        assertEquals(List.of(new Seen(0, 0x123_401, 0x33_2211L, 3, 0x11)), seen);
        assertEquals(0x33_2211L, vm.memory().read(0x123_400, 8) >>> 8);
        assertThrows(VmException.class, () -> vm.vcpu(0).emulatorWritePhys(0, 0, 9));
    }
}
