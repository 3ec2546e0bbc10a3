package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.shadowbox.writeflood.internal.FloodRig;

/** The bundle stops a third of the way in and starts again at two thirds. */
class SwapPolicyDifferentialTest extends FloodDifferentialTest {
    private final int ops = Integer.getInteger("shadowbox.ops", OPS);

    SwapPolicyDifferentialTest() {
        super("kvm");
    }

    @Override
    void beforeStep(int step) {
        if (step == ops / 3) {
            FloodRig.detach(flood, s.core, s.hooks);
        } else if (step == 2 * ops / 3) {
            FloodRig.attach(flood, s.core, s.hooks, s.vm);
        }
    }

    @Override
    void assertCoverage(MmuStats st) {
        Map<String, Long> f = floodStats();
        assertTrue(f.get("mmu_pte_write") > 0 && st.mmuPteWriteFallback > 0, where() + ": both served, " + f + " " + st);
    }
}
