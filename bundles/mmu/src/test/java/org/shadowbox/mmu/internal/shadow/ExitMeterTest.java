package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
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
        assertEquals(1, user.exits, "one #PF exit");
        assertEquals(1, user.pfFixed);
        assertEquals(4, user.guestWalkSteps, "a 4-level guest walk");
        assertEquals(4, user.shadowWalkSteps, "FNAME(fetch) through 4 levels");
        assertEquals(4, user.mmuCacheMiss, "root, PDPT, PD and PT shadow pages (VM-wide work, charged to the exit)");
        assertTrue(user.tlbWalkSteps >= 1 && user.tlbMiss == 2, "a miss before the fault and the refill after: " + user);
        assertTrue(user.mmuLock >= 1);
        assertEquals(0, sup.exits + sup.pfFixed + sup.mmuCacheMiss, "nothing charged to supervisor mode: " + sup);
        MmuStats total = rig.mmu.stats();
        assertEquals(total.mmuCacheMiss, user.mmuCacheMiss + sup.mmuCacheMiss);
        assertEquals(total.hashChainSteps, user.hashChainSteps + sup.hashChainSteps);
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
        assertTrue(sup.emulatedWrites == 1 && sup.pfEmulate == 1, "one emulation: " + sup);
        assertEquals(0, cpu0.meter().work(true).emulatedWrites);
    }

    @Test
    void cr3WritesAndInvlpgAreSupervisorExits() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok());
        long userExits = cpu0.meter().work(true).exits;
        cpu0.writeCr3(PML4 << 12);
        cpu0.invlpg(GVA);
        MmuStats sup = cpu0.meter().work(false);
        assertEquals(2, sup.exits);
        assertEquals(1, sup.invlpg);
        assertTrue(sup.tlbFlush >= 2, "both flush the TLB: " + sup);
        assertEquals(userExits, cpu0.meter().work(true).exits);
        assertEquals(0, cpu0.meter().accesses(false), "neither is a memory access");
    }

    @Test
    void perVcpuWorkAddsUpToTheVcpusCounters() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok());
        assertTrue(cpu0.write(PD_WINDOW + 8 * 100, 0, 8, false, rig.r).ok());
        cpu0.writeCr3(PML4 << 12);
        MmuStats charged = cpu0.meter().work(true);
        charged.add(cpu0.meter().work(false));
        charged.tlbHit = cpu0.stats.tlbHit; // hits are counted only as accesses
        Map<String, Long> mine = cpu0.stats.asMap();
        for (Map.Entry<String, Long> e : mine.entrySet()) {
            if (e.getValue() != 0) {
                assertTrue(charged.asMap().get(e.getKey()) >= e.getValue(), e.getKey() + ": " + charged + " vs " + mine);
            }
        }
    }

    @Test
    void addScaledAndAddCoverEveryCounter() throws IllegalAccessException {
        MmuStats a = new MmuStats();
        long n = 1;
        for (Field f : MmuStats.class.getFields()) {
            if (f.getType() == long.class && !Modifier.isStatic(f.getModifiers())) {
                f.setLong(a, n++);
            }
        }
        MmuStats b = a.copy();
        b.addScaled(a, 2);
        b.addScaled(b, -1);
        for (Field f : MmuStats.class.getFields()) {
            if (f.getType() == long.class && !Modifier.isStatic(f.getModifiers())) {
                assertEquals(f.getLong(a), f.getLong(a.copy()), "copy (add) misses " + f.getName());
                assertEquals(0, f.getLong(b), "addScaled misses " + f.getName());
            }
        }
        assertEquals(n - 1, a.asMap().size(), "asMap names every counter");
    }
}
