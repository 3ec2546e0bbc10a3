package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.writeflood.internal.FloodRig;
import org.shadowbox.writeflood.internal.WriteFlood;

/**
 * The MMU's {@link DifferentialTest} (seeded random guests of each paging mode against bare
 * metal, the invariant checker after every step) with this bundle's handler bound under each
 * policy, and under the kvm policy with the bundle stopped a third of the way in and started
 * again at two thirds: the guest must see exactly what it sees on bare metal in every case.
 * Each case runs on a shadow MMU under the pagetrack policy (the handler reached through the
 * notifiers) and under the legacy policy (reached by the emulator's direct call, the notifiers
 * ignored): in both, every emulated write is processed once. {@code -Dshadowbox.ops=N} and the
 * MMU's replay properties apply.
 */
class FloodDifferentialTest {
    /** Per run: far fewer than the MMU's own runs, since twenty-four run here. */
    private static final int OPS = Integer.getInteger("shadowbox.ops", 2_500);

    /** One run with {@code policy}; {@code swap}: stop and start the bundle mid-sequence. */
    private static final class FloodRun extends DifferentialTest.Run {
        private final String policy;
        private final boolean swap;
        private final boolean legacy;
        private WriteFlood flood;

        FloodRun(PagingMode mode, String config, String policy, boolean swap) {
            super(mode, config, OPS);
            this.policy = policy;
            this.swap = swap;
            this.legacy = config.equals(MmuUnderTest.SHADOW_LEGACY);
        }

        @Override
        void attached() {
            ShadowRig r = s.shadow();
            flood = FloodRig.bind(r.core, r.hooks, r.vm);
            FloodRig.policy(flood, policy, 3);
        }

        @Override
        void beforeStep(int step, int steps) {
            ShadowRig r = s.shadow();
            if (swap && step == steps / 3) {
                FloodRig.detach(flood, r.core, r.hooks);
            } else if (swap && step == 2 * steps / 3) {
                FloodRig.attach(flood, r.core, r.hooks, r.vm);
            }
        }

        @Override
        void assertCoverage() {
            ShadowRig r = s.shadow();
            MmuStats st = r.mmu.stats();
            Map<String, Long> f = FloodRig.stats(flood, r.vm);
            System.out.println("policy " + policy + (swap ? " (stopped and started)" : "") + ", MMU "
                    + r.mmu.policy + ": " + f);
            assertTrue(st.get(MmuCounter.PF_FIXED) > 0 && st.get(MmuCounter.PF_EMULATE) > 0 && st.get(MmuCounter.PF_GUEST) > 0, where() + " coverage " + st);
            assertTrue(f.get("mmu_pte_write") > 0, where() + ": the handler saw no write " + f);
            // Exactly once, by construction: one route per VM, so every emulated write was processed once.
            assertEquals(r.vm.stats().emulatedWrites(), r.mmu.pteWritesProcessed(),
                    where() + ": emulated writes against writes processed by kvm_mmu_pte_write " + st);
            if (legacy) {
                // Only the emulator's direct call reaches the handler.
                assertEquals(r.vm.stats().emulatedWrites(), st.get(MmuCounter.PTE_WRITE_EMULATOR), where() + ": direct calls " + st);
                assertEquals(0, st.get(MmuCounter.PF_EMULATE_TRACKED), where() + ": legacy has no page-track fast path " + st);
            } else {
                assertEquals(0, st.get(MmuCounter.PTE_WRITE_EMULATOR), where() + ": a direct pte-write call under pagetrack " + st);
            }
            if (swap) {
                assertTrue(st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK) > 0, where() + ": the fallback served nothing while stopped " + st);
                return;
            }
            assertEquals(0, st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK), where() + ": the fallback acted while a handler was bound");
            switch (policy) {
                case "kvm" -> assertTrue(f.get("mmu_pde_zapped") + f.get("mmu_pte_updated") > 0, where() + " " + f);
                case "xen" -> assertEquals(f.get("mmu_pte_write"), f.get("xen_writes"), where() + " " + f);
                default -> {
                    assertTrue(f.get("zap_pages") > 0, where() + " " + f);
                    assertEquals(0, f.get("mmu_pte_updated"), where() + " " + f);
                }
            }
        }
    }

    static Stream<Arguments> runs() {
        List<Arguments> out = new ArrayList<>();
        String[][] cases = {{"kvm", "false"}, {"xen", "false"}, {"zap", "false"}, {"kvm", "true"}};
        for (String config : new String[] {MmuUnderTest.SHADOW_PAGETRACK, MmuUnderTest.SHADOW_LEGACY}) {
            for (String[] c : cases) {
                for (PagingMode mode : new PagingMode[] {PagingMode.LONG, PagingMode.PAE, PagingMode.BITS32}) {
                    out.add(Arguments.of(mode, config, c[0], Boolean.parseBoolean(c[1])));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} paging, {1}, policy {2}, stopped and started: {3}")
    @MethodSource("runs")
    void guestsSeeWhatTheySeeOnBareMetal(PagingMode mode, String config, String policy, boolean swap) {
        new FloodRun(mode, config, policy, swap).run();
    }
}
