package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * KVM's cap is in force: a run long enough to need more shadow pages than {@code n_max_mmu_pages}
 * allows reaches the cap and stays there ({@code make_mmu_pages_available} recycles the oldest
 * pages when fewer than 5 are free), and the guest still sees exactly what bare metal shows.
 */
class SteadyStateTest {
    private static final int CAP = 64;

    @Test
    void liveShadowPagesReachTheCapAfterTheWarmUpAndPagesAreRecycled() {
        SimRig rig = new SimRig(CAP);
        long seed = 3;
        Vm bare = rig.hv.createVm(VmSpec.pc("bare", 256L << 20, 4));
        ScenarioResult ref = rig.runner.run("kernel-build", bare, i -> new BareMetalCpu(bare.vcpu(i)), 4, seed, null);
        for (String policy : List.of(VmSpec.POLICY_LEGACY, VmSpec.POLICY_PAGETRACK)) {
            Vm vm = rig.hv.createVm(VmSpec.pc("s-" + policy, 256L << 20, 4).with(VmSpec.POLICY, policy));
            RunReport r = rig.sim.run(vm, "kernel-build", 4, seed, 1, 8, CostModel.defaults(), null);
            String where = policy + ", seed " + seed + ": " + r.events();
            assertEquals(CAP, r.stat("n_max_mmu_pages"), where);
            long peak = r.stat("n_used_mmu_pages_peak");
            assertTrue(peak >= CAP - 5 && peak <= CAP + 4, "the peak is at the cap: " + where);
            assertTrue(r.stat("mmu_recycled") > 0, "pages were recycled in the charged window: " + where);
            assertTrue(r.stat("n_used_mmu_pages") <= CAP, where);
            assertEquals(8, r.warmup());
            assertEquals(List.of(), rig.mmu.check(vm), where + ": the MMU invariant checker");
            assertEquals(ref.checksum(), r.checksum(), where + ": memory as bare metal leaves it");
            assertEquals(ref.counts(), r.counts(), where + ": the guest saw what it sees on bare metal");
        }
    }

    @Test
    void theWarmUpIsNotCharged() {
        SimRig rig = new SimRig();
        Vm a = rig.hv.createVm(VmSpec.pc("a", 256L << 20, 2));
        Vm b = rig.hv.createVm(VmSpec.pc("b", 256L << 20, 2));
        RunReport all = rig.sim.run(a, "kernel-build", 2, 5, 1, 0, CostModel.defaults(), null);
        RunReport warm = rig.sim.run(b, "kernel-build", 2, 5, 1, 8, CostModel.defaults(), null);
        assertEquals(all.counts(), warm.counts(), "the same guest work either way");
        assertTrue(warm.workloadAccesses() < all.workloadAccesses(), "fewer accesses charged after a warm-up");
        assertTrue(warm.time().sysSeconds() < all.time().sysSeconds());
        assertTrue(warm.stat("exits") < all.stat("exits"));
    }
}
