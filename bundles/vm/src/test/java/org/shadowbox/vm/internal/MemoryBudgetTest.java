package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.spi.Platform;

/** Guest memory and page-track chunks charged to a VM's budget and the sandbox's. */
class MemoryBudgetTest {
    private static final long PAGE = 4096;

    static BudgetConfig config(String sandbox, String vm) {
        return new BudgetConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return BudgetConfig.class;
            }

            @Override
            public String sandbox() {
                return sandbox;
            }

            @Override
            public String vm() {
                return vm;
            }
        };
    }

    @Test
    void aVmBudgetRefusesTheNextPageInOneLineAndKeepsTheVmWorking() {
        HypervisorImpl hv = new HypervisorImpl();
        Vm vm = hv.createVm(VmSpec.pc("big", 1L << 40, 1));
        vm.setMemoryBudget(1L << 20); // 256 pages
        for (int i = 0; i < 256; i++) {
            vm.memory().write((0x100L + i) << 12, i + 1, 8);
        }
        VmException e = assertThrows(VmException.class, () -> vm.memory().write(0x100L + 256 << 12, 7, 8));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith("VM big memory budget exhausted: it holds 1 MiB of 1 MiB"), e.getMessage());
        assertTrue(e.getMessage().contains("vm:budget big SIZE"), e.getMessage());
        assertEquals(256, vm.memory().residentPages());
        // what was written is intact; an already resident page still takes writes; reads of new pages work
        for (int i = 0; i < 256; i++) {
            assertEquals(i + 1, vm.memory().read((0x100L + i) << 12, 8));
        }
        vm.memory().write(0x100L << 12, 99, 8);
        assertEquals(0, vm.memory().read(0x0800_0000L << 12, 8));
        assertEquals(256 * PAGE, vm.memoryBudget().vmUsedBytes());
    }

    @Test
    void theSandboxBudgetIsSharedByAllVmsAndFreedWithThem() {
        HypervisorImpl hv = new HypervisorImpl();
        hv.configure(config("2M", ""));
        Vm a = hv.createVm(VmSpec.pc("a", 64L << 20, 1));
        Vm b = hv.createVm(VmSpec.pc("b", 64L << 20, 1));
        for (int i = 0; i < 300; i++) {
            a.memory().write((0x100L + i) << 12, 1, 1);
        }
        for (int i = 0; i < 212; i++) {
            b.memory().write((0x100L + i) << 12, 1, 1);
        }
        VmException e = assertThrows(VmException.class, () -> b.memory().write(0x400L << 12, 1, 1));
        assertTrue(e.getMessage().startsWith("sandbox memory budget exhausted: all VMs hold 2 MiB of 2 MiB"
                + " (sandbox = 2M in workspace/config/org.shadowbox.budget.cfg)"), e.getMessage());
        assertEquals(212 * PAGE, b.memoryBudget().vmUsedBytes(), "a refused sandbox charge takes nothing from the VM");
        hv.destroyVm("a");
        assertEquals(212 * PAGE, hv.memoryBudget().sandboxUsedBytes());
        b.memory().write(0x400L << 12, 1, 1);
        b.deleteSlot(1);
        assertEquals(0, hv.memoryBudget().sandboxUsedBytes(), "slot 1 held every page");
    }

    @Test
    void aStoreThatCrossesIntoARefusedPageWritesNothing() {
        HypervisorImpl hv = new HypervisorImpl();
        Vm vm = hv.createVm(VmSpec.pc("t", 64L << 20, 1));
        vm.setMemoryBudget(1L << 20);
        for (int i = 0; i < 256; i++) {
            vm.memory().write((0x100L + i) << 12, 0, 1);
        }
        long gpa = ((0x100L + 255) << 12) + 4093; // 3 bytes in a resident page, 5 in a new one
        assertThrows(VmException.class, () -> vm.memory().write(gpa, -1L, 8));
        assertEquals(0, vm.memory().read(gpa, 8));
        assertThrows(VmException.class, () -> vm.vcpu(0).emulatorWritePhys(gpa, -1L, 8));
        assertEquals(0, vm.memory().read(gpa, 8));
        assertThrows(VmException.class, () -> vm.memory().write(gpa, new byte[8], 0, 8));
    }

    @Test
    void aBudgetBelowWhatTheVmHoldsIsRefused() {
        HypervisorImpl hv = new HypervisorImpl();
        Vm vm = hv.createVm(VmSpec.pc("t", 64L << 20, 1));
        for (int i = 0; i < 512; i++) {
            vm.memory().write((0x100L + i) << 12, 1, 1);
        }
        VmException e = assertThrows(VmException.class, () -> vm.setMemoryBudget(1L << 20));
        assertEquals("memory budget 1 MiB for VM t is below the 2 MiB it holds now: accepted at least 2097152 bytes"
                + " (host memory is not taken back)", e.getMessage());
        assertThrows(VmException.class, () -> vm.setMemoryBudget(4095));
        vm.setMemoryBudget(MemoryBudget.UNLIMITED);
    }

    @Test
    void pageTrackChunksAreCountedAndGivenBackWithTheirSlot() {
        HypervisorImpl hv = new HypervisorImpl();
        Vm vm = hv.createVm(VmSpec.pc("t", 64L << 20, 1));
        Platform.mmuLock(vm).lock();
        try {
            Platform.slot(vm.slotForGfn(0x100)).gfnTrack(0).add(0x100, 1);
        } finally {
            Platform.mmuLock(vm).unlock();
        }
        long chunk = vm.memoryBudget().vmUsedBytes();
        assertTrue(chunk > 8192 && chunk < 8500, "one 4096-counter chunk: " + chunk);
        vm.moveSlot(1, 0x100_000); // a move starts with zeroed counters
        assertEquals(0, vm.memoryBudget().vmUsedBytes());
    }

    /**
     * Issue 13: a tracker tracking one page in each 16 MiB of a huge sparse VM would allocate a
     * counter chunk each; reserve (called before a tracker's add) refuses the chunk that does not
     * fit, in one line, and charges nothing; chunks already there cost nothing to reserve again.
     */
    @Test
    void aTrackerChunkPastTheBudgetIsRefusedInOneLine() {
        HypervisorImpl hv = new HypervisorImpl();
        Vm vm = hv.createVm(VmSpec.pc("big", 1L << 40, 1));
        vm.setMemoryBudget(1L << 20);
        for (int i = 0; i < 250; i++) { // 24,576 bytes left: room for 2 chunks of 8,208 bytes, not 3
            vm.memory().write((0x100L + i) << 12, 1, 1);
        }
        Platform.mmuLock(vm).lock();
        try {
            var track = Platform.slot(vm.slotForGfn(0x100_000)).gfnTrack(0);
            for (int i = 0; i < 2; i++) {
                track.reserve(0x100_000L + ((long) i << 12));
                track.add(0x100_000L + ((long) i << 12), 1);
            }
            long held = vm.memoryBudget().vmUsedBytes();
            track.reserve(0x100_001L); // its chunk exists: nothing new
            assertEquals(held, vm.memoryBudget().vmUsedBytes());
            VmException e = assertThrows(VmException.class, () -> track.reserve(0x100_000L + (2L << 12)));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().startsWith("VM big memory budget exhausted: it holds ")
                    && e.getMessage().contains("allocating a page-track counter chunk (4096 pages' counts, 8 KiB) was"
                            + " refused") && e.getMessage().contains("vm:budget big SIZE"), e.getMessage());
            assertEquals(held, vm.memoryBudget().vmUsedBytes(), "a refused chunk charges nothing");
            assertEquals(0, track.count(0x100_000L + (2L << 12)));
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }

    @Test
    void randomWritesNeverPassTheBudgetAndTheAccountingMatchesResidentPages() {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        HypervisorImpl hv = new HypervisorImpl();
        hv.configure(config("4M", "3M"));
        Vm vm = hv.createVm(VmSpec.pc("t", 1L << 32, 2));
        int refused = 0;
        for (int i = 0; i < 5000; i++) {
            long gpa = (0x100L << 12) + (r.nextLong() & ((1L << 31) - 1));
            try {
                if (r.nextBoolean()) {
                    vm.memory().write(gpa, r.nextLong(), 8);
                } else {
                    vm.vcpu(r.nextInt(2)).emulatorWritePhys(gpa, r.nextLong(), 1 + r.nextInt(8));
                }
            } catch (VmException e) {
                refused++;
                assertTrue(e.getMessage().startsWith("VM t memory budget exhausted"), "seed " + seed + ": " + e);
            }
            assertEquals(vm.memory().residentPages() * PAGE, vm.memoryBudget().vmUsedBytes(), "seed " + seed);
            assertTrue(vm.memoryBudget().vmUsedBytes() <= 3L << 20, "seed " + seed);
        }
        assertTrue(refused > 0, "seed " + seed);
    }
}
