package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/** Scenarios on the real shadow and TDP MMUs, wired as in the framework, run through the scenario runner and charged. */
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
        // The same user-mode work, the same user charges; but for the IPIs of remote flushes: whether
        // a vCPU is in guest mode when another flushes depends on what it did before (after the
        // first run every vCPU has entered the guest), so the IPI exits may differ by a few.
        long[] a = userCounts(first.time());
        long[] b = userCounts(second.time());
        for (CostModel.Item i : CostModel.Item.values()) {
            if (i != CostModel.Item.VM_EXIT) {
                assertEquals(a[i.ordinal()], b[i.ordinal()], i.key);
            }
        }
        long d = Math.abs(a[CostModel.Item.VM_EXIT.ordinal()] - b[CostModel.Item.VM_EXIT.ordinal()]);
        assertTrue(d <= 4, "a few IPI exits at most: " + d);
    }

    private static long[] userCounts(SimTime t) {
        long[] c = new long[CostModel.Item.values().length];
        for (long[][] v : t.vcpuCounts()) {
            for (int i = 0; i < c.length; i++) {
                c[i] += v[SimTime.USER][i];
            }
        }
        return c;
    }

    /**
     * {@code run:compare --mmu tdp}: the same guest under KVM's pre-series TDP path and under
     * the series, with the same seed; the guest sees the same, the MMU does the same work but
     * the page-track lookups, and the report's figures add up to the work the MMU counted.
     */
    @Test
    void aTdpCompareSeesTheSameGuestAndDiffersOnlyInThePageTrackLookups() {
        long seed = 3;
        Comparison c = rig.sim.compare("kernel-build", 1, seed, VmSpec.MMU_TDP, CostModel.defaults(), null);
        RunReport legacy = c.before();
        RunReport pagetrack = c.after();
        String where = "kernel-build under tdp, seed " + seed;
        assertEquals(List.of("tdp", "legacy", "tdp", "pagetrack"),
                List.of(legacy.mmu(), legacy.policy(), pagetrack.mmu(), pagetrack.policy()), where);
        assertTrue(c.identical(), where + ": " + c.differences());
        assertEquals(legacy.checksum(), pagetrack.checksum(), where);
        assertEquals(0, legacy.stat("page_track_lookups"), where + ": the pre-series path never asks page track");
        assertTrue(pagetrack.stat("page_track_lookups") >= pagetrack.stat("pf_fixed") && pagetrack.stat("pf_fixed") > 0,
                where + ": mmu_need_write_protect asks at every mapping: " + pagetrack.mmuStats());
        Map<String, Long> a = new HashMap<>(legacy.mmuStats());
        Map<String, Long> b = new HashMap<>(pagetrack.mmuStats());
        a.remove("page_track_lookups");
        b.remove("page_track_lookups");
        assertEquals(a, b, where + ": the same work but the lookups");
        assertEquals(legacy.time().totalCycles(), pagetrack.time().totalCycles(), where + ": no cost item for a lookup");
        for (RunReport r : List.of(legacy, pagetrack)) {
            assertArithmetic(r, where + ", " + r.policy());
        }
        assertTrue(rig.hv.vms().isEmpty(), "the compare's VMs are gone");
    }

    /** The report's figures from the charged cycles, and the charged work against the MMU's own counters. */
    private static void assertArithmetic(RunReport r, String where) {
        SimTime t = r.time();
        CostModel m = r.model();
        double f = m.clockMhz() * 1e6;
        long user = 0;
        long sys = 0;
        long busiest = 0;
        for (int v = 0; v < t.userCycles().length; v++) {
            user += t.userCycles()[v];
            sys += t.sysCycles()[v];
            busiest = Math.max(busiest, t.userCycles()[v] + t.sysCycles()[v]);
        }
        assertEquals(user / f, t.userSeconds(), 1e-12, where + ": user");
        assertEquals(sys / f, t.sysSeconds(), 1e-12, where + ": sys");
        assertEquals(busiest / f, t.realSeconds(), 1e-12, where + ": real is the busiest vCPU");
        long charged = 0;
        for (CostModel.Item i : CostModel.Item.values()) {
            charged += t.counts().get(i) * m.cycles(i);
        }
        assertEquals(user + sys, charged, where + ": every cycle is some work's count times its figure");
        assertEquals(r.workloadAccesses(), t.counts().get(CostModel.Item.GUEST_ACCESS), where + ": accesses");
        assertEquals(r.stat("exits"), t.counts().get(CostModel.Item.VM_EXIT), where + ": every exit charged once");
        assertEquals(r.stat("tlb_walk_steps"), t.counts().get(CostModel.Item.TLB_WALK_STEP), where);
        assertEquals(r.stat("shadow_walk_steps"), t.counts().get(CostModel.Item.SHADOW_WALK_STEP), where);
        assertEquals(r.stat("mmu_cache_miss"), t.counts().get(CostModel.Item.SP_ALLOC), where);
        assertEquals(r.stat("pf_emulate") + r.stat("pf_mmio"), t.counts().get(CostModel.Item.EMULATION), where);
        assertEquals(r.stat("tlb_flush"), t.counts().get(CostModel.Item.TLB_FLUSH_LOCAL), where);
        assertEquals(0, t.counts().get(CostModel.Item.HASH_CHAIN_STEP) + t.counts().get(CostModel.Item.GUEST_WALK_STEP)
                + t.counts().get(CostModel.Item.SP_SYNC) + t.counts().get(CostModel.Item.SP_UNSYNC),
                where + ": work TDP does not do");
        assertTrue(r.stat("exits") > 0 && t.userSeconds() > 0 && t.sysSeconds() > 0, where + ": " + r.mmuStats());
    }
}
