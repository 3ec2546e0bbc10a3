package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.shadowbox.writeflood.internal.FloodRig;

/** The differential test under the kvm policy. */
class KvmPolicyDifferentialTest extends FloodDifferentialTest {
    KvmPolicyDifferentialTest() {
        super("kvm");
    }

    @Override
    void assertCoverage(MmuStats st) {
        // The random OS edits its page tables (level 1) mostly while they are unsync, so leaf
        // updates in place are rare here; PteWriteTest covers them.
        assertHandlerOnly(st, "mmu_pde_zapped");
        assertTrue(floodStats().get("mmu_flooded") > 0, where() + ": no page flooded");
    }
}
