package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.writeflood.internal.FloodRig;
import org.shadowbox.writeflood.internal.WriteFlood;

/**
 * The MMU's {@link DifferentialTest} (seeded random guests of each paging mode against bare
 * metal, the invariant checker after every step) with this bundle's handler bound under each
 * policy, and under the kvm policy with the bundle stopped a third of the way in and started
 * again at two thirds: the guest must see exactly what it sees on bare metal in every case.
 * {@code -Dshadowbox.ops=N} and the MMU's replay properties apply.
 */
class FloodDifferentialTest {
    /** Per run: far fewer than the MMU's own runs, since twelve run here. */
    private static final int OPS = Integer.getInteger("shadowbox.ops", 2_500);

    /** One run with {@code policy}; {@code swap}: stop and start the bundle mid-sequence. */
    private static final class FloodRun extends DifferentialTest.Run {
        private final String policy;
        private final boolean swap;
        private WriteFlood flood;

        FloodRun(PagingMode mode, String policy, boolean swap) {
            super(mode, OPS);
            this.policy = policy;
            this.swap = swap;
        }

        @Override
        void attached() {
            flood = FloodRig.bind(s.core, s.hooks, s.vm);
            FloodRig.policy(flood, policy, 3);
        }

        @Override
        void beforeStep(int step, int steps) {
            if (swap && step == steps / 3) {
                FloodRig.detach(flood, s.core, s.hooks);
            } else if (swap && step == 2 * steps / 3) {
                FloodRig.attach(flood, s.core, s.hooks, s.vm);
            }
        }

        @Override
        void assertCoverage(MmuStats st) {
            Map<String, Long> f = FloodRig.stats(flood, s.vm);
            System.out.println("policy " + policy + (swap ? " (stopped and started)" : "") + ": " + f);
            assertTrue(st.pfFixed > 0 && st.pfEmulate > 0 && st.pfGuest > 0, where() + " coverage " + st);
            assertTrue(f.get("mmu_pte_write") > 0, where() + ": the handler saw no write " + f);
            if (swap) {
                assertTrue(st.mmuPteWriteFallback > 0, where() + ": the fallback served nothing while stopped " + st);
                return;
            }
            assertEquals(0, st.mmuPteWriteFallback, where() + ": the fallback acted while a handler was bound");
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

    @ParameterizedTest(name = "{0} paging, policy {1}, stopped and started: {2}")
    @CsvSource({"LONG,kvm,false", "PAE,kvm,false", "BITS32,kvm,false", "LONG,xen,false", "PAE,xen,false",
            "BITS32,xen,false", "LONG,zap,false", "PAE,zap,false", "BITS32,zap,false", "LONG,kvm,true", "PAE,kvm,true",
            "BITS32,kvm,true"})
    void guestsSeeWhatTheySeeOnBareMetal(String mode, String policy, boolean swap) {
        PagingMode m = mode.equals("LONG") ? PagingMode.LONG : mode.equals("PAE") ? PagingMode.PAE : PagingMode.BITS32;
        new FloodRun(m, policy, swap).run();
    }
}
