package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.internal.trace.TraceScenario;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * The split of docs/replay.md checked on a real short recording (tools/test/three-children.sh):
 * its CPU time retired in aggregate, and the same work run as that many real TLB-hit accesses one
 * by one, through the shadow MMU. The MMU's counts and the charged cycles agree within
 * {@value #TOLERANCE} (relative): per access, the vCPU's TLB can miss where the aggregate
 * assumes hits (after a context switch or a flush), and those misses are the whole difference.
 */
class TraceReplaySplitTest {
    static final double TOLERANCE = 0.01;
    static final String THREE = "traces/three-children.jsonl.gz";
    /** Small enough that the per-access replay runs in a second or two, large enough to dominate the charge. */
    static final double PER_US = 4;

    static TraceScenario three() {
        return TraceScenario.ofStream("three-children", "test", THREE,
                () -> TraceReplaySplitTest.class.getClassLoader().getResourceAsStream(THREE)).load();
    }

    /** A replay through the shadow MMU and what the scenario says it retired. */
    record Replayed(RunReport report, long retired) {
    }

    static Replayed replay(boolean perAccess, String policy) {
        SimRig rig = new SimRig();
        TraceScenario s = three().with(perAccess, PER_US);
        rig.runner.add(s);
        Vm vm = rig.hv.createVm(VmSpec.pc("t", 256L << 20, 2).with(VmSpec.POLICY, policy));
        RunReport r = rig.sim.run(vm, "three-children", 1, 3, CostModel.defaults(), null);
        Map<String, Object> rep = s.report();
        return new Replayed(r, (Long) rep.get("user_accesses_retired") + (Long) rep.get("sys_accesses_retired")
                - (Long) rep.get("per_access_unsimulated"));
    }

    @Test
    void aggregatedAndPerAccessReplaysAgree() {
        for (String policy : new String[] {VmSpec.POLICY_LEGACY, VmSpec.POLICY_PAGETRACK}) {
            RunReport agg = replay(false, policy).report();
            Replayed e = replay(true, policy);
            RunReport each = e.report();
            long aggCycles = agg.time().totalCycles();
            long eachCycles = each.time().totalCycles();
            assertTrue(close(aggCycles, eachCycles), policy + ": charged cycles " + aggCycles + " aggregated, " + eachCycles
                    + " per access");
            for (String k : new String[] {"exits", "pf_fixed", "pf_emulate", "mmu_cache_miss", "mmu_shadow_zapped",
                    "mmu_pte_write", "tlb_flush"}) {
                long a = agg.mmuStats().getOrDefault(k, 0L);
                long b = each.mmuStats().getOrDefault(k, 0L);
                assertTrue(close(a, b), policy + ": " + k + " " + a + " aggregated, " + b + " per access");
            }
            assertEquals(agg.counts().pageFaults(), each.counts().pageFaults(), policy + ": the guest's faults");
            assertEquals(agg.counts().processes(), each.counts().processes());
            assertTrue(e.retired() > 100_000, "the per-access replay ran the CPU time as accesses: " + e.retired());
            // Per access, the retired CPU work and the 504 other words of every data-page clear
            // and copy are simulated accesses; aggregated, they are charged without simulation.
            assertTrue(each.counts().accesses() - agg.counts().accesses() >= e.retired(),
                    "the per-access replay simulated the retired work one access at a time: " + each.counts().accesses()
                            + " - " + agg.counts().accesses() + " vs " + e.retired());
        }
    }

    @Test
    void bothPoliciesSeeTheSameGuest() {
        SimRig rig = new SimRig();
        rig.runner.add(three());
        Comparison c = rig.sim.compare("three-children", 1, 9, VmSpec.MMU_SHADOW, CostModel.defaults(), null);
        assertTrue(c.identical(), String.join("; ", c.differences()));
        Map<String, Long> after = c.after().mmuStats();
        assertTrue(after.getOrDefault("exits", 0L) > 0, after.toString());
    }

    private static boolean close(long a, long b) {
        return Math.abs(a - b) <= TOLERANCE * Math.max(Math.abs(a), Math.abs(b)) + 2;
    }
}
