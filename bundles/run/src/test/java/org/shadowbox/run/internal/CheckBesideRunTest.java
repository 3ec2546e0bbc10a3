package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * Issue 13: {@code mmu:check} beside a running guest sees a consistent MMU. A loop of checks
 * runs while background runs (2 vCPUs on 2 host threads) follow one another, until thousands of
 * checks are done, on each MMU: under shadow paging the emulated writes of both vCPUs race the
 * checker; under TDP the guest writes its own tables, fills and flushes its TLBs with no exit,
 * which rule (f) reads. No check may report a violation, and every run must still verify its
 * memory and end with a clean check.
 */
class CheckBesideRunTest {
    private static final int CHECKS = 3000;
    private static final String OFF = RunCommands.OFF;
    private static final String ON = RunCommands.ON;

    @Test
    void thousandsOfChecksBesideRunsReportNothing() throws Exception {
        SimRig rig = new SimRig();
        RunCommands cmd = new RunCommands(rig.hv, rig.sim, CostModel.defaults(), null);
        for (String mode : List.of(VmSpec.MMU_TDP, VmSpec.MMU_SHADOW)) {
            Vm vm = rig.hv.createVm(VmSpec.pc("c-" + mode, 128L << 20, 2).with(VmSpec.MMU, mode));
            List<String> violations = new ArrayList<>();
            int checks = 0;
            int runs = 0;
            while (checks < CHECKS || runs < 2) { // both scenarios, however fast the checks are
                String started = cmd.scenario("1", Integer.toString(runs + 1), "2", "0", ON, OFF, OFF, vm.name(),
                        runs % 2 == 0 ? "pt-reuse" : "fork-storm");
                int id = Integer.parseInt(started.substring(4, started.indexOf(':')));
                runs++;
                while (vm.vcpu(0).claimedBy() != null && checks < CHECKS * runs) {
                    List<String> v = rig.mmu.check(vm);
                    checks++;
                    if (!v.isEmpty() && violations.size() < 5) {
                        violations.addAll(v);
                    }
                }
                String report = cmd.report(OFF, OFF, Integer.toString(id)); // throws if the guest saw corruption
                assertTrue(report.contains("pt-reuse") || report.contains("fork-storm"), report);
                assertEquals(List.of(), rig.mmu.check(vm), "the check after run " + id);
            }
            System.out.println(mode + ": " + checks + " checks beside " + runs + " runs, " + violations.size()
                    + " reports");
            assertEquals(List.of(), violations, mode + ": false reports in " + checks + " checks beside " + runs + " runs");
        }
    }
}
