package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/** Scenarios on the real shadow MMU, wired as in the framework, run through the scenario runner and charged. */
class SimulatorTest {
    private final SimRig rig = new SimRig();

    private Vm vm(String name, String paging) {
        return rig.hv.createVm(VmSpec.pc(name, 256L << 20, 2).with(VmSpec.PAGING, paging));
    }

    @Test
    void theSameSeedGivesTheSameCountsAndTheSameCycles() {
        long seed = 0x5eed;
        RunReport a = rig.sim.run(vm("a", "64"), "kernel-build", 1, seed, CostModel.defaults(), null);
        RunReport b = rig.sim.run(vm("b", "64"), "kernel-build", 1, seed, CostModel.defaults(), null);
        assertEquals(a.counts(), b.counts(), "seed " + seed);
        assertEquals(a.checksum(), b.checksum(), "seed " + seed);
        assertEquals(a.mmuStats(), b.mmuStats(), "seed " + seed);
        assertArrayEquals(a.time().userCycles(), b.time().userCycles(), "seed " + seed);
        assertArrayEquals(a.time().sysCycles(), b.time().sysCycles(), "seed " + seed);
        assertEquals(a.time().realSeconds(), b.time().realSeconds(), "seed " + seed);
        RunReport c = rig.sim.run(vm("c", "64"), "kernel-build", 1, seed + 1, CostModel.defaults(), null);
        assertTrue(!c.counts().equals(a.counts()) || c.checksum() != a.checksum(), "another seed, another run");
    }

    @Test
    void everyScenarioCompletesOnTheShadowMmuWithTheInvariantsHoldingAndTheGuestsMemoryIntact() {
        for (String paging : List.of("64", "pae", "32")) {
            for (String scenario : List.of("kernel-build", "fork-storm", "pt-reuse", "steady")) {
                long seed = 7;
                Vm bare = vm(scenario + "-" + paging + "-bare", paging);
                ScenarioResult ref = rig.runner.run(scenario, bare, i -> new BareMetalCpu(bare.vcpu(i)), 1, seed, null);
                for (String policy : List.of(VmSpec.POLICY_PAGETRACK, VmSpec.POLICY_LEGACY)) {
                    Vm vm = rig.hv.createVm(VmSpec.pc(scenario + "-" + paging + "-" + policy, 256L << 20, 2)
                            .with(VmSpec.PAGING, paging).with(VmSpec.POLICY, policy));
                    RunReport r = rig.sim.run(vm, scenario, 1, seed, CostModel.defaults(), null);
                    String where = scenario + " (" + paging + ", " + policy + ", seed " + seed + ")";
                    assertEquals(List.of(), rig.mmu.check(vm), where + ": the MMU invariant checker");
                    // The runner verified the guest's memory through the reference walker and vCPU 0;
                    // bare metal, same seed, must leave the very same memory and counts.
                    assertEquals(ref.checksum(), r.checksum(), where + ": memory as bare metal leaves it");
                    assertEquals(ref.counts(), r.counts(), where + ": the guest saw what it sees on bare metal");
                    assertTrue(r.stat("exits") > 0 && r.time().sysSeconds() > 0 && r.time().userSeconds() > 0,
                            where + ": " + r);
                    rig.hv.destroyVm(vm.name());
                }
                rig.hv.destroyVm(bare.name());
            }
        }
    }

    @Test
    void aSecondRunOnTheSameVmIsChargedOnlyItsOwnWork() {
        Vm vm = vm("again", "64");
        RunReport first = rig.sim.run(vm, "steady", 1, 3, CostModel.defaults(), null);
        RunReport second = rig.sim.run(vm, "steady", 1, 3, CostModel.defaults(), null);
        assertEquals(first.counts(), second.counts());
        assertEquals(second.workloadAccesses(), second.time().counts().get(CostModel.Item.GUEST_ACCESS),
                "every access of the workload charged once, in the second run alone");
        long boot = second.counts().accesses() - second.workloadAccesses();
        assertTrue(boot > 0 && boot < 20_000, "the boot's accesses are not charged: " + boot);
        assertEquals(first.time().userSeconds(), second.time().userSeconds(), "the same work, the same time");
    }
}
