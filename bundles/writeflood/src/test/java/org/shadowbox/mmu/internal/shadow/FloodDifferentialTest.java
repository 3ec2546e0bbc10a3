package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.shadowbox.writeflood.internal.FloodRig;
import org.shadowbox.writeflood.internal.WriteFlood;

/**
 * The MMU's {@link DifferentialTest} (seeded random 64-bit guests against bare metal, the
 * invariant checker after every step) with this bundle's handler bound under a policy: the
 * guest must see exactly what it sees on bare metal, whatever the policy. The subclasses pick
 * the policy; {@link SwapPolicyDifferentialTest} also stops and starts the bundle in the middle of the sequence.
 */
abstract class FloodDifferentialTest extends DifferentialTest {
    /** Per policy: fewer operations than the MMU's own run, since four policies run. */
    static final int OPS = 6_000;

    final WriteFlood flood = FloodRig.bind(s.core, s.hooks, s.vm);

    FloodDifferentialTest(String policy) {
        FloodRig.policy(flood, policy, 3);
    }

    @Override
    int defaultOps() {
        return OPS;
    }

    Map<String, Long> floodStats() {
        Map<String, Long> m = FloodRig.stats(flood, s.vm);
        System.out.println(getClass().getSimpleName() + " write-flood stats " + m);
        return m;
    }

    /** The handler did the work; the MMU's fallback never acted. */
    void assertHandlerOnly(MmuStats st, String counter) {
        Map<String, Long> f = floodStats();
        assertTrue(f.get("mmu_pte_write") > 0 && f.get(counter) > 0, where() + " coverage " + f);
        assertEquals(0, st.mmuPteWriteFallback, where() + ": the fallback acted while a handler was bound");
        assertTrue(st.pfFixed > 0 && st.pfEmulate > 0 && st.pfGuest > 0 && st.invlpg > 0, where() + " coverage " + st);
    }
}
