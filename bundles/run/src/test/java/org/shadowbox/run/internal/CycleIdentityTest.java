package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.run.internal.CostModel.Item;

/**
 * The cycle identity on real runs of both policies: per vCPU, sys (and user) is the sum over the
 * cost items of count x figure, and the counts the meter charged per vCPU add up to the MMU's own
 * counters for the run (nothing charged twice, nothing lost), with several vCPUs and remote flushes.
 */
class CycleIdentityTest {
    @Test
    void sysIsTheSumOfCountTimesFigurePerVcpuAndTheCountsAreTheMmus() {
        SimRig rig = new SimRig();
        CostModel m = CostModel.defaults();
        Comparison c = rig.sim.compare("kernel-build", 1, 11, "shadow", 1, 4, 64L << 20, 2, m, null);
        for (RunReport r : new RunReport[] {c.before(), c.after()}) {
            SimTime t = r.time();
            long[][][] k = t.vcpuCounts();
            assertEquals(4, k.length);
            long sysTotal = 0;
            for (int v = 0; v < k.length; v++) {
                long sys = 0;
                long user = 0;
                for (Item i : Item.values()) {
                    sys += k[v][SimTime.SUPERVISOR][i.ordinal()] * m.cycles(i);
                    user += k[v][SimTime.USER][i.ordinal()] * m.cycles(i);
                }
                assertEquals(sys, t.sysCycles()[v], r.policy() + ": vCPU " + v + " sys");
                assertEquals(user, t.userCycles()[v], r.policy() + ": vCPU " + v + " user");
                sysTotal += sys;
            }
            assertEquals(sysTotal / (m.clockMhz() * 1e6), t.sysSeconds(), 1e-12);
            String where = r.policy() + ": " + r.mmuStats();
            assertEquals(r.stat("exits") + r.stat("ipi_exits"), total(k, Item.VM_EXIT), where);
            assertEquals(r.stat("gfn_to_pfn"), total(k, Item.GFN_TO_PFN), where);
            assertEquals(r.stat("host_mapping_level"), total(k, Item.HOST_MAPPING_LEVEL), where);
            assertEquals(r.stat("self_change_checks"), total(k, Item.FAULT_SELF_CHANGE), where);
            assertEquals(r.stat("gpte_rechecks"), total(k, Item.GPTE_RECHECK), where);
            assertEquals(r.stat("remote_flush_ipis"), total(k, Item.IPI_WAIT), where);
            assertEquals(r.stat("remote_flush_requests"), total(k, Item.TLB_FLUSH_REQUEST), where);
            assertEquals(4 * r.stat("remote_tlb_flush"), r.stat("remote_flush_requests"), "a request per vCPU per flush");
            assertEquals(r.stat("mmu_cache_miss"), total(k, Item.SP_ALLOC), where);
            assertTrue(r.stat("remote_flush_ipis") > 0 && r.stat("ipi_exits") >= r.stat("remote_flush_ipis"), where);
        }
        assertEquals(c.before().time().userSeconds(), c.after().time().userSeconds(), 1e-15,
                "user does not depend on the policy");
    }

    private static long total(long[][][] k, Item i) {
        long s = 0;
        for (long[][] v : k) {
            s += v[0][i.ordinal()] + v[1][i.ordinal()];
        }
        return s;
    }
}
