package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * The scenarios on the real MMU with each vCPU on its own host thread ({@code --threads 2}): they
 * complete, the runner's verification of the guest's memory passes (it throws otherwise), and
 * the MMU invariant checker finds nothing at the end. The seed is {@code -Dshadowbox.seed} when
 * set, else a few fixed ones; it is in every message. Run it again and again to look for races:
 * {@code mvn -pl bundles/run -am verify -Dtest=SmpRunTest -Dshadowbox.seed=N -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class SmpRunTest {
    private final SimRig rig = new SimRig();

    static List<Long> seeds() {
        String s = System.getProperty("shadowbox.seed");
        return s == null ? List.of(1L, 2L) : List.of(Long.decode(s));
    }

    @Test
    void everyScenarioOnTwoThreadsCompletesVerifiedWithTheInvariantsHolding() {
        for (long seed : seeds()) {
            for (String policy : List.of(VmSpec.POLICY_PAGETRACK, VmSpec.POLICY_LEGACY)) {
                for (String scenario : List.of("kernel-build", "fork-storm", "pt-reuse", "steady")) {
                    String name = scenario + "-" + policy + "-" + seed;
                    Vm vm = rig.hv.createVm(VmSpec.pc(name, 256L << 20, 2).with(VmSpec.POLICY, policy));
                    String where = scenario + " (" + policy + ", 2 threads, seed " + seed + ")";
                    RunReport r = rig.sim.run(vm, scenario, 1, seed, 2, CostModel.defaults(), null);
                    assertEquals(List.of(), rig.mmu.check(vm), where + ": the MMU invariant checker");
                    assertEquals(2, r.threads(), where);
                    assertTrue(r.stat("exits") > 0 && r.time().sysSeconds() > 0 && r.time().userSeconds() > 0,
                            where + ": " + r);
                    assertTrue(r.counts().contextSwitches() > 0, where);
                    rig.hv.destroyVm(name);
                }
            }
        }
    }

    @Test
    void otherPagingModesTdpAndMoreVcpusThanThreads() {
        for (long seed : seeds()) {
            for (String paging : List.of("pae", "32")) {
                String name = "kb-" + paging + "-" + seed;
                Vm vm = rig.hv.createVm(VmSpec.pc(name, 256L << 20, 2).with(VmSpec.PAGING, paging));
                rig.sim.run(vm, "kernel-build", 1, seed, 2, CostModel.defaults(), null);
                assertEquals(List.of(), rig.mmu.check(vm), "kernel-build " + paging + " seed " + seed);
                rig.hv.destroyVm(name);
            }
            Vm tdp = rig.hv.createVm(VmSpec.pc("tdp-" + seed, 256L << 20, 2).with(VmSpec.MMU, VmSpec.MMU_TDP));
            // The TDP MMU is not metered (no cost report): the runner alone, on the MMU's vCPUs.
            rig.runner.run("kernel-build", tdp, i -> rig.mmu.cpu(tdp, i), 1, seed, 2, null);
            assertEquals(List.of(), rig.mmu.check(tdp), "kernel-build tdp seed " + seed);
            rig.hv.destroyVm(tdp.name());
            Vm four = rig.hv.createVm(VmSpec.pc("four-" + seed, 256L << 20, 4));
            RunReport r = rig.sim.run(four, "fork-storm", 1, seed, 3, CostModel.defaults(), null);
            assertEquals(List.of(), rig.mmu.check(four), "fork-storm 4 vCPUs 3 threads seed " + seed);
            assertEquals(4, r.vcpus());
            rig.hv.destroyVm(four.name());
        }
    }

    @Test
    void oneThreadStillGivesIdenticalCountsAndCycles() {
        RunReport a = rig.sim.run(rig.hv.createVm(VmSpec.pc("a", 256L << 20, 2)), "fork-storm", 1, 9, CostModel.defaults(), null);
        RunReport b = rig.sim.run(rig.hv.createVm(VmSpec.pc("b", 256L << 20, 2)), "fork-storm", 1, 9, 1, CostModel.defaults(), null);
        assertEquals(a.counts(), b.counts());
        assertEquals(a.checksum(), b.checksum());
        assertEquals(a.mmuStats(), b.mmuStats());
        assertEquals(a.time().sysSeconds(), b.time().sysSeconds());
    }

    @Test
    void badThreadsAreRefusedInOneLineAndNothingIsCreated() {
        RunCommands cmd = new RunCommands(rig.hv, rig.sim, CostModel.defaults(), null);
        rig.hv.createVm(VmSpec.pc("two", 128L << 20, 2));
        assertEquals("bad --threads '0': accepted 1 to 2 (the VM's vCPUs)",
                assertThrows(VmException.class, () -> cmd.scenario("1", "", "0", "0", "false", "false", "false", "two", "steady")).getMessage());
        assertEquals("bad --threads '3': accepted 1 to 2 (the VM's vCPUs)",
                assertThrows(VmException.class, () -> cmd.scenario("1", "", "3", "0", "false", "false", "false", "two", "steady")).getMessage());
        assertEquals("bad --threads 'two': accepted 1 to 2 (the VM's vCPUs)",
                assertThrows(VmException.class, () -> cmd.scenario("1", "", "two", "0", "false", "false", "false", "two", "steady")).getMessage());
        assertEquals("bad --threads '5': accepted 1 to 4 (each compared VM's vCPUs)",
                assertThrows(VmException.class, () -> cmd.compare("1", "", "shadow", "5", "4", "1G", "0", "false", "false", "false", "steady")).getMessage());
        assertEquals("bad --threads '1.5': accepted 1 to 4 (each compared VM's vCPUs)",
                assertThrows(VmException.class, () -> cmd.compare("1", "", "shadow", "1.5", "4", "1G", "0", "false", "false", "false", "steady")).getMessage());
        assertEquals(List.of("two"), rig.hv.vms().stream().map(Vm::name).toList(), "no VM created by a refused compare");
    }

    @Test
    void compareOnTwoThreadsSaysTheResultsAreNotComparedAndVerifiesEachRun(@TempDir Path ws) throws Exception {
        System.setProperty("shadowbox.workspace", ws.toString());
        try {
            RunCommands cmd = new RunCommands(rig.hv, rig.sim, CostModel.defaults(), null);
            String out = cmd.compare("1", "", "shadow", "2", "4", "1G", "0", "false", "false", "false", "kernel-build");
            assertTrue(out.startsWith("kernel-build: scale 1, seed 1; two fresh VMs of 4 vCPUs on 2 host threads and "), out);
            assertTrue(out.contains("guest-visible results: not compared (2 vCPU threads: the interleaving is the host's"), out);
            String one = cmd.scenario("1", "", "2", "0", "false", "false", "false", createdVm(), "pt-reuse");
            assertTrue(one.startsWith("pt-reuse on VM smp: scale 1, seed 1, 2 vCPUs on 2 host threads, "), one);
        } finally {
            restoreWorkspace();
        }
    }

    private String createdVm() {
        rig.hv.createVm(VmSpec.pc("smp", 128L << 20, 2));
        return "smp";
    }

    /** The workspace the build gives every test (surefire's shadowbox.workspace, under target/). */
    private static final String BUILD_WORKSPACE = System.getProperty("shadowbox.workspace");

    private static void restoreWorkspace() {
        if (BUILD_WORKSPACE == null) {
            System.clearProperty("shadowbox.workspace");
        } else {
            System.setProperty("shadowbox.workspace", BUILD_WORKSPACE);
        }
    }
}
