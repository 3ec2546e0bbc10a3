package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.shadowbox.writeflood.internal.FloodRig;

/** The differential test under the zap policy. */
class ZapPolicyDifferentialTest extends FloodDifferentialTest {
    ZapPolicyDifferentialTest() {
        super("zap");
    }

    @Override
    void assertCoverage(MmuStats st) {
        assertHandlerOnly(st, "zap_pages");
        assertEquals(0, floodStats().get("mmu_pte_updated"));
    }
}
