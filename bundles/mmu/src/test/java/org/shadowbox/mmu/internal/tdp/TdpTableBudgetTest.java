package org.shadowbox.mmu.internal.tdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.VmException;

/**
 * TDP table pages are charged to the VM's memory budget, as KVM's {@code tdp_mmu_alloc_sp}
 * charges them to the VM's memory cgroup ({@code GFP_KERNEL_ACCOUNT}): a fault that needs a
 * table page past the budget is refused in the budget's one line, the MMU stays consistent and
 * the VM runs on; freeing tables (a zap, the VM destroyed) gives the bytes back.
 */
class TdpTableBudgetTest {
    private static final long GIB = 1L << 30;

    @Test
    void tablePagesPastTheBudgetAreRefusedInOneLineAndTheVmRunsOn() {
        // 64 GiB, sparse: a 4 KiB mapping in each GiB needs a page directory and a page table of its own.
        TdpRig rig = new TdpRig("t", 64 * GIB, 1, "off", 64);
        TdpVcpu cpu = rig.cpu(0);
        long sandboxBefore = rig.hv.memoryBudget().sandboxUsedBytes();
        MemoryBudget b0 = rig.vm.memoryBudget();
        assertEquals(rig.mmu.tablePages() * TdpMmu.TABLE_BYTES, b0.vmUsedBytes(), "the root is charged, nothing else");
        // A budget of 1 MiB (the least accepted) filled with guest pages but for 10 table pages.
        rig.vm.setMemoryBudget(1L << 20);
        byte[] page = new byte[4096];
        for (long gpa = 1L << 20; rig.vm.memoryBudget().vmUsedBytes() < (1L << 20) - 10 * TdpMmu.TABLE_BYTES; gpa += 4096) {
            rig.mem.write(gpa, page, 0, 4096);
        }
        int mapped = 0;
        VmException refused = null;
        for (long gb = 1; gb < 64 && refused == null; gb++) {
            int tablesBefore = rig.mmu.tablePages();
            long usedBefore = rig.vm.memoryBudget().vmUsedBytes();
            try {
                map(rig, gb * GIB);
                mapped++;
            } catch (VmException e) {
                refused = e;
                // The tables linked on the way down stay (empty, linked, charged); the refused one is not made.
                assertTrue(rig.vm.memoryBudget().vmUsedBytes() - usedBefore
                        == (rig.mmu.tablePages() - tablesBefore) * TdpMmu.TABLE_BYTES, "only the tables made are charged");
                assertEquals(0, rig.leaf(gb * GIB >>> 12), "no leaf for the refused fault");
            }
            assertEquals(rig.mmu.tablePages() * TdpMmu.TABLE_BYTES + rig.vm.memory().residentPages() * 4096,
                    rig.vm.memoryBudget().vmUsedBytes(), "every table page is charged, with the guest pages mapped");
            rig.assertConsistent("after the read of GiB " + gb);
        }
        assertTrue(refused != null, "a budget of 10 table pages stops them");
        String line = refused.getMessage();
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("VM t memory budget exhausted: it holds "), line);
        assertTrue(line.contains("allocating a 4 KiB TDP table page for gfn 0x") && line.contains("raise it with vm:budget t SIZE"),
                line);
        assertTrue(mapped >= 3 && mapped <= 5, "mapped " + mapped);
        assertTrue(rig.vm.memoryBudget().vmUsedBytes() <= rig.vm.memoryBudget().vmLimitBytes());

        // The VM runs on: what was mapped stays mapped, guest memory is intact.
        assertTrue(rig.leaf(GIB >>> 12) != 0, "the first mapping stays");
        assertEquals(0, rig.mem.read(2L << 20, 8), "guest memory intact");
        // Raising the budget lets the same access through.
        rig.vm.setMemoryBudget(MemoryBudget.UNLIMITED);
        assertTrue(cpu.read(1 * GIB, 8, false, rig.r).ok());
        assertTrue(cpu.write(1 * GIB + 8, 0x5a5a, 8, false, rig.r).ok());
        assertEquals(0x5a5a, rig.mem.read(1 * GIB + 8, 8));
        map(rig, (mapped + 1) * GIB);
        rig.assertConsistent("after the budget was raised");

        // A zap gives the tables back; destroying the VM gives back the rest.
        rig.mmu.zapAll();
        assertEquals(rig.mmu.tablePages() * TdpMmu.TABLE_BYTES + rig.vm.memory().residentPages() * 4096,
                rig.vm.memoryBudget().vmUsedBytes(), "a zap uncharges the tables it frees");
        rig.hv.destroyVm("t");
        assertEquals(sandboxBefore - b0.vmUsedBytes(), rig.hv.memoryBudget().sandboxUsedBytes(),
                "the destroyed VM holds nothing");
    }

    @Test
    void aFullSandboxRefusesTheTablePageInTheSandboxLine() {
        TdpRig rig = new TdpRig("s", 64 * GIB, 1, "off", 64);
        rig.hv.configure(new org.shadowbox.vm.internal.BudgetConfig() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return org.shadowbox.vm.internal.BudgetConfig.class;
            }

            @Override
            public String sandbox() {
                return "4M";
            }

            @Override
            public String vm() {
                return "";
            }
        });
        MemoryBudget b = rig.vm.memoryBudget();
        long room = b.sandboxLimitBytes() - b.sandboxUsedBytes();
        // Another VM's guest memory takes the sandbox's room but one table page: a read needs two.
        org.shadowbox.vm.Vm other = rig.hv.createVm(org.shadowbox.vm.VmSpec.pc("other", 64 * GIB, 1));
        assertTrue(room > 2 * TdpMmu.TABLE_BYTES);
        byte[] page = new byte[4096];
        for (long gpa = 1L << 20; rig.hv.memoryBudget().sandboxLimitBytes() - rig.hv.memoryBudget().sandboxUsedBytes()
                > TdpMmu.TABLE_BYTES; gpa += 4096) {
            other.memory().write(gpa, page, 0, 4096);
        }
        VmException e = assertThrows(VmException.class, () -> {
            for (long gb = 1; gb < 64; gb++) {
                map(rig, gb * GIB);
            }
        });
        assertTrue(e.getMessage().startsWith("sandbox memory budget exhausted: all VMs hold "), e.getMessage());
        assertTrue(e.getMessage().contains("TDP table page"), e.getMessage());
        rig.assertConsistent("after the sandbox's refusal");
        rig.hv.destroyVm("other");
        map(rig, 63 * GIB);
        assertTrue(rig.cpu(0).read(63 * GIB, 8, false, rig.r).ok(), "room again once the other VM is gone");
    }

    /** {@code __direct_map} of the 4 KiB page at {@code gpa}, writable, under the MMU lock (as the fault path calls it). */
    private static void map(TdpRig rig, long gpa) {
        long gfn = gpa >>> 12;
        org.shadowbox.vm.spi.Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.map(gfn, 1, true, rig.vm.slotForGfn(gfn));
        } finally {
            org.shadowbox.vm.spi.Platform.mmuLock(rig.vm).unlock();
        }
    }
}
