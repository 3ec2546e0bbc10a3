package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.tdp.TdpCounter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.tdp.TdpChecker;
import org.shadowbox.mmu.internal.tdp.TdpRig;
import org.shadowbox.mmu.internal.tdp.TdpStats;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * One MMU configuration as a randomized test drives it: the shadow MMU under the pagetrack or
 * the legacy policy, or TDP, with every vCPU starting in a given guest paging mode. The same
 * seeded guest runs through each against bare metal.
 */
abstract class MmuUnderTest {
    /** The configurations: "shadow-pagetrack", "shadow-legacy", "tdp". */
    static final String SHADOW_PAGETRACK = "shadow-pagetrack", SHADOW_LEGACY = "shadow-legacy", TDP = "tdp";

    abstract Vm vm();

    abstract PageTrack external(String owner);

    /** The vCPU's access path (shadow: VcpuMmu, TDP: TdpVcpu). */
    abstract GuestVcpu cpu(int vcpu);

    /** One access: a write if {@code acc} has W, else a fetch if it has I/D, else a read; U for user. */
    final AccessResult access(int vcpu, long gva, long value, int size, int acc, AccessResult out) {
        GuestVcpu c = cpu(vcpu);
        boolean user = (acc & Pfec.USER) != 0;
        if ((acc & Pfec.WRITE) != 0) {
            return c.write(gva, value, size, user, out);
        }
        return (acc & Pfec.FETCH) != 0 ? c.fetch(gva, size, user, out) : c.read(gva, size, user, out);
    }

    abstract void writeCr3(int vcpu, long cr3);

    final void invlpg(int vcpu, long gva) {
        cpu(vcpu).invlpg(gva);
    }

    /** The invariant checker of the MMU. */
    abstract List<String> check();

    /** The shadow page limit (no limit under TDP). */
    abstract void limitPages(int n);

    abstract String stats();

    /** The run exercised what it should have (fails with {@code where} in the message). */
    abstract void assertCoverage(String where);

    /** The shadow rig of a shadow configuration (for tests that bind a pte-write handler to it). */
    abstract ShadowRig shadow();

    /** @param mode the guest paging mode the vCPUs start in (64-bit, PAE or 32-bit) */
    static MmuUnderTest of(String config, PagingMode mode, String name, long memoryBytes, int vcpus, int tlbEntries) {
        switch (config) {
            case SHADOW_PAGETRACK:
                return new Shadow(new ShadowRig(name, memoryBytes, vcpus, tlbEntries, mode, VmSpec.POLICY_PAGETRACK));
            case SHADOW_LEGACY:
                return new Shadow(new ShadowRig(name, memoryBytes, vcpus, tlbEntries, mode, VmSpec.POLICY_LEGACY));
            case TDP:
                return new Tdp(new TdpRig(name, memoryBytes, vcpus, mode.name(), tlbEntries));
            default:
                throw new IllegalArgumentException(config);
        }
    }

    private static final class Shadow extends MmuUnderTest {
        private final ShadowRig s;

        Shadow(ShadowRig s) {
            this.s = s;
        }

        @Override
        Vm vm() {
            return s.vm;
        }

        @Override
        ShadowRig shadow() {
            return s;
        }

        @Override
        PageTrack external(String owner) {
            return s.external(owner);
        }

        @Override
        GuestVcpu cpu(int vcpu) {
            return s.cpu(vcpu);
        }

        @Override
        void writeCr3(int vcpu, long cr3) {
            s.cpu(vcpu).writeCr3(cr3);
        }

        @Override
        List<String> check() {
            return MmuChecker.check(s.mmu);
        }

        @Override
        void limitPages(int n) {
            s.mmu.setMaxMmuPages(n);
        }

        @Override
        String stats() {
            return s.mmu.policy + " " + s.mmu.stats();
        }

        @Override
        void assertCoverage(String where) {
            MmuStats st = s.mmu.stats();
            String m = where + " coverage " + st;
            assertTrue(st.get(MmuCounter.PF_FIXED) > 0 && st.get(MmuCounter.PF_EMULATE) > 0 && st.get(MmuCounter.PF_GUEST) > 0 && st.get(MmuCounter.TLB_HIT) > 0, m);
            assertTrue(st.get(MmuCounter.MMU_SYNC_PAGE) > 0 && st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED) > 0 && st.get(MmuCounter.INVLPG) > 0, m);
            for (int i = 0; i < s.vm.spec().vcpus(); i++) {
                VcpuMmu v = s.mmu.vcpu(i);
                assertEquals(0, v.memoryCache.emptyTakes(), where + ": a shadow page was made under the MMU lock with vCPU " + i
                        + "'s page cache short: a section that makes pages without mmu_topup_memory_caches before it");
            }
            if (s.mmu.policy.fastPageTrackPath()) {
                assertTrue(st.get(MmuCounter.PF_EMULATE_TRACKED) > 0, m);
                assertEquals(0, st.get(MmuCounter.PTE_WRITE_EMULATOR), m);
            } else {
                assertEquals(0, st.get(MmuCounter.PF_EMULATE_TRACKED), "legacy has no page-track fast path: " + m);
                assertEquals(st.get(MmuCounter.PF_EMULATE), st.get(MmuCounter.PF_EMULATE_WP), "every legacy emulation took the full path: " + m);
                assertTrue(st.get(MmuCounter.PTE_WRITE_EMULATOR) > 0, m);
            }
        }
    }

    private static final class Tdp extends MmuUnderTest {
        private final TdpRig t;

        Tdp(TdpRig t) {
            this.t = t;
        }

        @Override
        Vm vm() {
            return t.vm;
        }

        @Override
        ShadowRig shadow() {
            throw new IllegalStateException("TDP has no shadow rig");
        }

        @Override
        PageTrack external(String owner) {
            return t.external(owner);
        }

        @Override
        GuestVcpu cpu(int vcpu) {
            return t.cpu(vcpu);
        }

        @Override
        void writeCr3(int vcpu, long cr3) {
            t.cpu(vcpu).writeCr3(cr3);
        }

        @Override
        List<String> check() {
            return TdpChecker.check(t.mmu);
        }

        @Override
        void limitPages(int n) {
        }

        @Override
        String stats() {
            return "tdp " + t.mmu.stats();
        }

        @Override
        void assertCoverage(String where) {
            TdpStats st = t.mmu.stats();
            String m = where + " coverage " + st;
            // Emulations that are not MMIO (pf_emulate and pf_mmio are disjoint): writes to tracked
            // pages (fast path or not-present path).
            assertTrue(st.get(TdpCounter.PF_FIXED) > 0 && st.get(TdpCounter.PF_EMULATE) > 0 && st.get(TdpCounter.GUEST_PF) > 0 && st.get(TdpCounter.TLB_HIT) > 0, m);
            assertTrue(st.get(TdpCounter.PF_MMIO) > 0 && st.get(TdpCounter.INVLPG) > 0 && st.get(TdpCounter.MMU_CACHE_MISS) > 0, m);
        }
    }
}
