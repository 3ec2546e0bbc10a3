package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;



import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.tdp.TdpCounter;
import org.shadowbox.mmu.internal.tdp.TdpStats;
import org.shadowbox.vm.Register;

/** The cost model's counters: counted where the work happens, charged to the guest mode that caused it. */
class ExitMeterTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L, PD_WINDOW = 0x40_1000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig();
    private final VcpuMmu cpu0 = rig.cpu(0);

    ExitMeterTest() {
        long[] tables = {PDPT, PD, PT};
        rig.map4k(PML4, tables, GVA, DATA, DIRTY);
        rig.map4k(PML4, tables, PD_WINDOW, PD, DIRTY);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        rig.vm.vcpu(1).set(Register.CR3, PML4 << 12);
    }

    @Test
    void aUserFaultIsChargedToUserModeWithItsWalksAndNewShadowPages() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok());
        MmuStats user = cpu0.meter().work(true);
        MmuStats sup = cpu0.meter().work(false);
        assertEquals(1, cpu0.meter().accesses(true));
        assertEquals(0, cpu0.meter().accesses(false));
        assertEquals(1, user.get(MmuCounter.EXITS), "one #PF exit");
        assertEquals(1, user.get(MmuCounter.PF_FIXED));
        assertEquals(4, user.get(MmuCounter.GUEST_WALK_STEPS), "a 4-level guest walk");
        assertEquals(4, user.get(MmuCounter.SHADOW_WALK_STEPS), "FNAME(fetch) through 4 levels");
        assertEquals(4, user.get(MmuCounter.MMU_CACHE_MISS), "root, PDPT, PD and PT shadow pages (VM-wide work, charged to the exit)");
        assertTrue(user.get(MmuCounter.TLB_WALK_STEPS) >= 1 && user.get(MmuCounter.TLB_MISS) == 2, "a miss before the fault and the refill after: " + user);
        assertTrue(user.get(MmuCounter.MMU_LOCK) >= 1);
        assertEquals(0, sup.get(MmuCounter.EXITS) + sup.get(MmuCounter.PF_FIXED) + sup.get(MmuCounter.MMU_CACHE_MISS), "nothing charged to supervisor mode: " + sup);
        MmuStats total = rig.mmu.stats();
        assertEquals(total.get(MmuCounter.MMU_CACHE_MISS), user.get(MmuCounter.MMU_CACHE_MISS) + sup.get(MmuCounter.MMU_CACHE_MISS));
        assertEquals(total.get(MmuCounter.HASH_CHAIN_STEPS), user.get(MmuCounter.HASH_CHAIN_STEPS) + sup.get(MmuCounter.HASH_CHAIN_STEPS));
    }

    @Test
    void aTlbHitOpensNoWindowAndIsOnlyCounted() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok());
        MmuStats before = cpu0.meter().work(true);
        assertTrue(cpu0.read(GVA + 8, 8, true, rig.r).ok());
        MmuStats after = cpu0.meter().work(true);
        assertEquals(2, cpu0.meter().accesses(true));
        after.addScaled(before, -1);
        assertEquals(new MmuStats().asMap(), after.asMap(), "a TLB hit charges no exit work");
    }

    @Test
    void anEmulatedSupervisorWriteToAShadowedTableIsChargedToSupervisorMode() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok()); // shadows PD (tracked: non-leaf)
        assertTrue(cpu0.write(PD_WINDOW + 8 * 100, 0, 8, false, rig.r).ok());
        MmuStats sup = cpu0.meter().work(false);
        assertEquals(1, cpu0.meter().accesses(false));
        assertTrue(sup.get(MmuCounter.EMULATED_WRITES) == 1 && sup.get(MmuCounter.PF_EMULATE) == 1, "one emulation: " + sup);
        assertEquals(0, cpu0.meter().work(true).get(MmuCounter.EMULATED_WRITES));
    }

    @Test
    void cr3WritesAndInvlpgAreSupervisorExits() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok());
        long userExits = cpu0.meter().work(true).get(MmuCounter.EXITS);
        cpu0.writeCr3(PML4 << 12);
        cpu0.invlpg(GVA);
        MmuStats sup = cpu0.meter().work(false);
        assertEquals(2, sup.get(MmuCounter.EXITS));
        assertEquals(1, sup.get(MmuCounter.INVLPG));
        assertTrue(sup.get(MmuCounter.TLB_FLUSH) >= 2, "both flush the TLB: " + sup);
        assertEquals(userExits, cpu0.meter().work(true).get(MmuCounter.EXITS));
        assertEquals(0, cpu0.meter().accesses(false), "neither is a memory access");
    }

    @Test
    void perVcpuWorkAddsUpToTheVcpusCounters() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok());
        assertTrue(cpu0.write(PD_WINDOW + 8 * 100, 0, 8, false, rig.r).ok());
        cpu0.writeCr3(PML4 << 12);
        MmuStats charged = cpu0.meter().work(true);
        charged.add(cpu0.meter().work(false));
        charged.set(MmuCounter.TLB_HIT, cpu0.count(MmuCounter.TLB_HIT)); // hits are counted only as accesses
        MmuStats counts = new MmuStats();
        cpu0.meter().addOwn(counts);
        Map<String, Long> mine = counts.asMap();
        for (Map.Entry<String, Long> e : mine.entrySet()) {
            if (e.getValue() != 0) {
                assertTrue(charged.asMap().get(e.getKey()) >= e.getValue(), e.getKey() + ": " + charged + " vs " + mine);
            }
        }
    }

    @Test
    void theVcpuCountsIntoTheBlockOfItsWindowAndOutsideWindowsElsewhere() {
        ExitMeter<MmuStats> m = cpu0.meter();
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok()); // the first entry loads the root: a window from the start
        long missesOutside = m.own(ExitMeter.OUTSIDE).get(MmuCounter.TLB_MISS);
        assertTrue(cpu0.read(PD_WINDOW, 8, true, rig.r).ok()); // a user fault: its window's counts in USER's block
        assertTrue(cpu0.read(GVA + 16, 8, false, rig.r).ok()); // a supervisor TLB hit, general path: outside any window
        assertEquals(2, m.own(ExitMeter.USER).get(MmuCounter.PF_FIXED));
        assertEquals(2, m.own(ExitMeter.USER).get(MmuCounter.EXITS));
        assertEquals(0, m.own(ExitMeter.OUTSIDE).get(MmuCounter.PF_FIXED) + m.own(ExitMeter.SUPERVISOR).get(MmuCounter.PF_FIXED));
        assertTrue(m.own(ExitMeter.OUTSIDE).get(MmuCounter.TLB_MISS) > missesOutside, "the miss before the second fault is outside its window");
        assertEquals(cpu0.count(MmuCounter.TLB_HIT), m.own(ExitMeter.OUTSIDE).get(MmuCounter.TLB_HIT)
                + m.own(ExitMeter.USER).get(MmuCounter.TLB_HIT), "count() sums the blocks");
        assertTrue(cpu0.counting == m.own(ExitMeter.OUTSIDE), "after the access the vCPU counts outside windows again");
        assertEquals(0, m.work(false).get(MmuCounter.EXITS), "nothing charged to supervisor mode");
    }

    @Test
    void theVmBlockCountsOnlyVmWideCounters() {
        boolean assertions = false;
        assert assertions = true;
        Assumptions.assumeTrue(assertions, "needs -ea (the tests run with it: surefire's default)");
        VmCounters<MmuCounter, MmuStats> vm = new VmCounters<>(MmuCounter.class);
        vm.inc(MmuCounter.MMU_CACHE_MISS);
        assertThrows(AssertionError.class, () -> vm.inc(MmuCounter.PF_FIXED), "pf_fixed is a vCPU's counter");
        assertThrows(AssertionError.class, () -> new VmCounters<TdpCounter, TdpStats>(TdpCounter.class).add(TdpCounter.TLB_MISS, 1));
        new MmuStats().inc(MmuCounter.MMU_CACHE_MISS); // a vCPU's block (or a sum) may hold any counter
    }

    @Test
    void aWindowThatChangesNoVmWideCounterAddsNothingAndOneThatDoesAddsTheChange() {
        VmCounters<MmuCounter, MmuStats> vm = new VmCounters<>(MmuCounter.class);
        long[] before = vm.newSnapshot();
        MmuStats into = new MmuStats();
        vm.inc(MmuCounter.MMU_CACHE_MISS);
        vm.setNow(before);
        vm.addSince(before, into);
        assertEquals(new MmuStats().asMap(), into.asMap());
        vm.setNow(before);
        vm.add(MmuCounter.MMU_UNSYNC, -1);
        vm.inc(MmuCounter.MMU_UNSYNC);
        vm.inc(MmuCounter.REMOTE_TLB_FLUSH);
        vm.add(MmuCounter.MMU_SHADOW_ZAPPED, 3);
        vm.addSince(before, into);
        assertEquals(1, into.get(MmuCounter.REMOTE_TLB_FLUSH));
        assertEquals(3, into.get(MmuCounter.MMU_SHADOW_ZAPPED));
        assertEquals(0, into.get(MmuCounter.MMU_UNSYNC), "down and up again: no change");
        assertEquals(0, into.get(MmuCounter.MMU_CACHE_MISS), "counted before the window");
        MmuStats sum = new MmuStats();
        vm.addTo(sum);
        assertEquals(1, sum.get(MmuCounter.MMU_CACHE_MISS));
        assertEquals(3, vm.get(MmuCounter.MMU_SHADOW_ZAPPED));
        assertEquals(0, vm.get(MmuCounter.PF_FIXED), "a vCPU counter reads 0 here");
    }

    @Test
    void addScaledAndAddCoverEveryCounterAndNamesEachOnce() {
        MmuStats a = new MmuStats();
        long n = 1;
        for (MmuCounter c : MmuCounter.values()) {
            a.set(c, n++);
        }
        MmuStats b = a.copy();
        b.addScaled(a, 2);
        b.addScaled(b, -1);
        MmuStats copy = a.copy();
        for (MmuCounter c : MmuCounter.values()) {
            assertEquals(c.ordinal() + 1, copy.get(c), "copy misses " + c);
            assertEquals(0, b.get(c), "addScaled misses " + c);
        }
        assertEquals(MmuCounter.values().length, a.asMap().size(), "asMap names every counter once");
        assertEquals(MmuCounter.values().length, new java.util.HashSet<>(a.asMap().values()).size());
        assertEquals(java.util.Arrays.stream(TdpCounter.values()).map(TdpCounter::kvmName).distinct().count(),
                TdpCounter.values().length, "TDP counter names are distinct");
        assertTrue(!a.asMap().containsKey("mmu_pte_write_duplicates"), "the counter nothing incremented is gone");
    }
}
