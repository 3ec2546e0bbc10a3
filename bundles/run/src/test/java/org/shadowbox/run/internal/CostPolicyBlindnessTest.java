package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.run.internal.CostModel.Item;

/**
 * The cost code never sees the write-protection policy: its sources (comments aside) name no
 * policy, no method takes or returns one, and the same work costs the same whatever VM did it.
 */
class CostPolicyBlindnessTest {
    private static final List<String> COST_CODE = List.of("CostModel.java", "CostConfig.java", "SimTime.java");

    /** The source without comments and string literals' contents. */
    private static String code(String file) throws IOException {
        String s = Files.readString(Path.of("src/main/java/org/shadowbox/run/internal", file));
        s = s.replaceAll("(?s)/\\*.*?\\*/", " ");
        s = s.replaceAll("//[^\\n]*", " ");
        return s.toLowerCase(Locale.ROOT);
    }

    @Test
    void noPolicyInTheCostCode() throws IOException {
        for (String f : COST_CODE) {
            String c = code(f);
            for (String word : List.of("policy", "legacy", "pagetrack", "page_track", "fastpagetrackpath", "vmspec")) {
                assertFalse(c.contains(word), f + " mentions '" + word + "' outside its comments");
            }
        }
        for (Class<?> k : List.of(CostModel.class, CostConfig.class, SimTime.class, Item.class)) {
            for (Method m : k.getDeclaredMethods()) {
                for (Class<?> p : m.getParameterTypes()) {
                    assertFalse(p.getName().toLowerCase(Locale.ROOT).contains("policy"), k + "." + m.getName());
                    assertFalse(p.getName().startsWith("org.shadowbox.vm."), k + "." + m.getName() + " sees the VM");
                }
            }
        }
    }

    @Test
    void theSameWorkCostsTheSame() {
        CostModel d = CostModel.defaults();
        Map<String, Long> w = Map.of("accesses", 1000L, "exits", 7L, "gfn_to_pfn", 3L, "remote_flush_ipis", 1L,
                "remote_flush_requests", 4L, "ipi_exits", 2L, "hash_chain_steps", 11L);
        @SuppressWarnings("unchecked")
        SimTime a = SimTime.charge(d, List.of(new Map[] {w, Map.of()}, new Map[] {Map.of(), Map.of()}), 1);
        @SuppressWarnings("unchecked")
        SimTime b = SimTime.charge(CostModel.defaults(), List.of(new Map[] {w, Map.of()}, new Map[] {Map.of(), Map.of()}), 1);
        assertEquals(a.sysByItem(), b.sysByItem());
        long byHand = 1000 * d.cycles(Item.GUEST_ACCESS) + (7 + 2) * d.cycles(Item.VM_EXIT)
                + 3 * d.cycles(Item.GFN_TO_PFN) + d.cycles(Item.IPI_WAIT) + 4 * d.cycles(Item.TLB_FLUSH_REQUEST)
                + 11 * d.cycles(Item.HASH_CHAIN_STEP);
        assertEquals(byHand, a.sysCycles()[0]);
    }
}
