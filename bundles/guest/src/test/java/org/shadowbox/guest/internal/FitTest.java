package org.shadowbox.guest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.BudgetConfig;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * "Does this scenario fit this VM" before the guest boots: a guest too small for a scenario and
 * a budget too small for its run are refused in one line that names the budget, the need and
 * the room, with the VM untouched; a run the check admits runs to its end within the budget, and
 * again on the same VM (pages already resident cost nothing); the guest model's bookkeeping is
 * charged while a run lasts and given back after.
 */
class FitTest {
    private final HypervisorImpl hv = new HypervisorImpl();
    private final Runner runner = Guests.runner();

    private Vm vm(long memoryBytes, int vcpus) {
        return hv.createVm(VmSpec.pc("g", memoryBytes, vcpus));
    }

    private void run(Vm vm, String scenario, long scale) {
        runner.run(scenario, vm, i -> new BareMetalCpu(vm.vcpu(i)), scale, 1, null);
    }

    private static void assertUntouched(Vm vm) {
        assertEquals(0, vm.vcpu(0).get(Register.CR3), "the guest never booted");
        assertEquals(0, vm.memory().residentPages(), "no guest page made resident");
    }

    @Test
    void aGuestTooSmallForTheScenarioIsRefusedBeforeBoot() {
        Vm vm = vm(16L << 20, 2);
        VmException e = assertThrows(VmException.class, () -> run(vm, "kernel-build", 1000));
        String line = e.getMessage();
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("scenario kernel-build at scale 1000 needs at least 8002 guest pages (31.3 MiB) at"
                + " once, but VM g has 3840 usable pages (15 MiB above its first MiB), so it would run out of guest"
                + " memory; accepted more guest memory (vm:create --memory SIZE) or a smaller --scale"), line);
        assertUntouched(vm);
        assertThrows(VmException.class, () -> runner.checkFits("kernel-build", vm, 1000), "the shell's check says the same");
    }

    @Test
    void aVmBudgetTooSmallIsRefusedNamingTheNeedAndTheRoom() {
        Vm vm = vm(64L << 20, 2);
        vm.setMemoryBudget(1L << 20);
        VmException e = assertThrows(VmException.class, () -> run(vm, "steady", 1));
        String line = e.getMessage();
        System.out.println(line);
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("a run of steady at scale 1 on VM g needs up to "), line);
        assertTrue(line.contains(" of the guest model's bookkeeping for 16384 frames")
                && line.contains("past the VM g memory budget: it holds 0 bytes of 1 MiB, room 1 MiB; raise it with"
                        + " vm:budget g SIZE, or use a smaller --scale; nothing was run"), line);
        assertUntouched(vm);
    }

    @Test
    void aSandboxBudgetTooSmallIsRefusedInTheSandboxsWords() {
        hv.configure(config("2M"));
        Vm vm = vm(64L << 20, 1);
        VmException e = assertThrows(VmException.class, () -> run(vm, "steady", 1));
        assertTrue(e.getMessage().contains("past the sandbox memory budget: all VMs hold 0 bytes of 2 MiB, room 2 MiB;"
                + " raise 'sandbox' in workspace/config/org.shadowbox.budget.cfg (and -Xmx in JAVA_OPTS), destroy a VM,"
                + " or use a smaller --scale; nothing was run"), e.getMessage());
        assertUntouched(vm);
    }

    @Test
    void aRunTheCheckAdmitsFitsAndRunsAgainOnTheSameVm() {
        for (String scenario : new String[] {"kernel-build", "fork-storm", "pt-reuse", "steady"}) {
            Vm vm = vm(64L << 20, 2);
            long bookkeeping = Kernel.frames(vm.memslots(), "64") * Kernel.FRAME_BOOKKEEPING_BYTES;
            // The smallest budget, in 64 KiB steps, that the check admits.
            long budget = 1L << 20;
            while (true) {
                vm.setMemoryBudget(budget);
                try {
                    runner.checkFits(scenario, vm, 1);
                    break;
                } catch (VmException e) {
                    assertTrue(e.getMessage().contains("memory budget"), e.getMessage());
                    budget += 64 << 10;
                }
            }
            run(vm, scenario, 1);
            MemoryBudget b = vm.memoryBudget();
            assertTrue(b.vmUsedBytes() <= budget - bookkeeping, scenario + ": the run stayed within what was checked");
            run(vm, scenario, 1); // its pages are resident already: the check admits it again
            assertEquals(b.vmUsedBytes(), vm.memoryBudget().vmUsedBytes(), scenario + ": a rerun touches the same frames");
            hv.destroyVm("g");
        }
    }

    private static BudgetConfig config(String sandbox) {
        return new BudgetConfig() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return BudgetConfig.class;
            }

            @Override
            public String sandbox() {
                return sandbox;
            }

            @Override
            public String vm() {
                return "";
            }
        };
    }
}
