package org.shadowbox.mmu.internal.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.shadowbox.testing.ClassFileCode.assertEachAtMost;
import static org.shadowbox.testing.ClassFileCode.codeLengths;
import static org.shadowbox.testing.ClassFileCode.longest;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.shadow.TlbHitPath;

/**
 * The call boundary of a guest access, by construction (docs/mmu.md, "What a TLB hit costs"):
 * HotSpot's C2 never inlines a method of more than {@code FreqInlineSize} (325) bytes of
 * bytecode, and inlines smaller ones at a hot call site unless their own compiled code is
 * already big. So the general path of an access (after a TLB miss) must be one method over
 * 325 bytes, under both MMUs, and each link of the TLB-hit case from the {@code GuestCpu}
 * adapter down must be well under it. Read from the compiled class files; fails when an edit
 * moves the boundary (a general path split into small pieces the JIT would pull into the
 * hit, or a hit method grown past what its callers inline).
 */
class TlbHitShapeTest {
    /** HotSpot's FreqInlineSize on x86-64 (JDK 17 to 25): the most bytecode C2 inlines at a hot call site. */
    private static final int FREQ_INLINE_SIZE = 325;

    @Test
    void theGeneralPathIsOneMethodTheJitNeverInlines() throws IOException {
        for (String c : new String[] {"org/shadowbox/mmu/internal/shadow/GuestAccess",
                "org/shadowbox/mmu/internal/tdp/TdpAccess"}) {
            int miss = longest(codeLengths(c), "miss");
            assertTrue(miss > FREQ_INLINE_SIZE, c + ".miss has " + miss + " bytes of bytecode; it must be over "
                    + FREQ_INLINE_SIZE + " so that no caller inlines the general path into the TLB hit");
        }
    }

    @Test
    void theHitCaseIsSmallAtEveryLink() throws IOException {
        Map<String, Integer> limits = new HashMap<>();
        // the adapter's access methods: the hit case and one call, a few bytecodes each
        limits.put("org/shadowbox/mmu/internal/osgi/ShadowGuestCpu read", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/ShadowGuestCpu write", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/ShadowGuestCpu fetch", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/TdpGuestCpu read", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/TdpGuestCpu write", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/TdpGuestCpu fetch", 64);
        // the vCPU's hit: the fit, the request word, the TLB and the load or store
        limits.put("org/shadowbox/mmu/internal/shadow/VcpuMmu loadHit", 160);
        limits.put("org/shadowbox/mmu/internal/shadow/VcpuMmu storeHit", 160);
        limits.put("org/shadowbox/mmu/internal/tdp/TdpVcpu loadHit", 160);
        limits.put("org/shadowbox/mmu/internal/tdp/TdpVcpu storeHit", 160);
        // the adapter's way to the general path: the liveness check, the mutex, one call
        limits.put("org/shadowbox/mmu/internal/osgi/ResultCpu miss", 120);
        assertEachAtMost(limits, "keep the rare cases in the general path (miss), out of the hit");
    }

    /** {@code TlbHitPath.fits}, one branch-free test, against the rule written out, for every offset and many sizes. */
    @Test
    void fitsIsTheSizeAndPageCrossRule() {
        for (int size = -70; size <= 70; size++) {
            for (int off = 0; off < 4096; off++) {
                boolean rule = (size == 1 || size == 2 || size == 4 || size == 8) && off + size <= 4096;
                if (TlbHitPath.fits(size, off) != rule) {
                    assertEquals(rule, TlbHitPath.fits(size, off), "fits(size " + size + ", offset " + off + ")");
                }
            }
        }
        for (int size : new int[] {Integer.MIN_VALUE, -1 << 16, 1 << 16, 33, 34, 36, 40, Integer.MAX_VALUE}) {
            assertEquals(false, TlbHitPath.fits(size, 0), "fits(size " + size + ", 0)");
        }
    }

    @Test
    void readsTheCodeLengthOfAKnownMethod() throws IOException {
        // the parser itself, on a method whose bytecode is known
        int none = longest(codeLengths("org/shadowbox/mmu/internal/shadow/VcpuRequests"), "none");
        assertEquals(13, none, "VcpuRequests.none: return bits == 0 (aload_0 getfield ifne iconst_1 goto iconst_0 ireturn)");
    }
}
