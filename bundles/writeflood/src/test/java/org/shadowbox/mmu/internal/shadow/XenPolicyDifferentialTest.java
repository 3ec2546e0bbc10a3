package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.shadowbox.writeflood.internal.FloodRig;

/** The differential test under the xen policy. */
class XenPolicyDifferentialTest extends FloodDifferentialTest {
    XenPolicyDifferentialTest() {
        super("xen");
    }

    @Override
    void assertCoverage(MmuStats st) {
        assertHandlerOnly(st, "xen_writes");
    }
}
