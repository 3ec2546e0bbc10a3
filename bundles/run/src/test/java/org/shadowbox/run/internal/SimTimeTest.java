package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.run.internal.CostModel.Item;
import org.shadowbox.vm.VmException;

/** The report's arithmetic: real, user and sys from the charged cycles, checked against a case computed by hand. */
class SimTimeTest {

    /** 1 MHz, so that a million cycles is one second; every figure 0 but the ones named. */
    private static CostModel model(Map<Item, Long> figures) {
        Map<Item, Long> m = new EnumMap<>(Item.class);
        for (Item i : Item.values()) {
            m.put(i, figures.getOrDefault(i, 0L));
        }
        return new CostModel(1, m);
    }

    @Test
    void aSmallCaseComputedByHand() {
        CostModel m = model(Map.of(Item.GUEST_ACCESS, 2L, Item.VM_EXIT, 1000L, Item.EMULATION, 3000L,
                Item.NOTIFIER_CALL, 10L, Item.IPI_WAIT, 500L));
        // vCPU 0: user 100,000 accesses and 50 exits; supervisor 20,000 accesses, 10 exits, 4 emulated writes
        //         (4 emulations, 4 writes heard by 2 notifiers), 2 remote flushes that sent IPIs.
        // vCPU 1: user 300,000 accesses, no exit; supervisor nothing.
        Map<String, Long> u0 = Map.of("accesses", 100_000L, "exits", 50L);
        Map<String, Long> s0 = Map.of("accesses", 20_000L, "exits", 10L, "pf_emulate", 4L, "emulated_writes", 4L,
                "remote_tlb_flush", 2L, "remote_flush_ipis", 2L);
        Map<String, Long> u1 = Map.of("accesses", 300_000L);
        Map<String, Long> s1 = Map.of();
        @SuppressWarnings("unchecked")
        SimTime t = SimTime.charge(m, List.of(new Map[] {s0, u0}, new Map[] {s1, u1}), 2);
        // user: v0 = 100,000 x 2 + 50 x 1000 = 250,000; v1 = 600,000
        assertArrayEquals(new long[] {250_000, 600_000}, t.userCycles());
        // sys: v0 = 20,000 x 2 + 10 x 1000 + 4 x 3000 + 4 x 2 x 10 + 2 x 500 = 40,000 + 10,000 + 12,000 + 80 + 1,000
        assertArrayEquals(new long[] {63_080, 0}, t.sysCycles());
        assertEquals(0.850_000, t.userSeconds(), 1e-12);
        assertEquals(0.063_080, t.sysSeconds(), 1e-12);
        // real: the busiest vCPU, v1 with 600,000 cycles (v0 has 313,080)
        assertEquals(0.600_000, t.realSeconds(), 1e-12);
        assertEquals(8L, t.counts().get(Item.NOTIFIER_CALL));
        assertEquals(2L, t.counts().get(Item.IPI_WAIT));
        assertEquals(12_000L, t.sysByItem().get(Item.EMULATION));
        assertEquals(50_000L, t.userByItem().get(Item.VM_EXIT));
        assertEquals(913_080, t.totalCycles());
    }

    @Test
    void realIsTheBusiestVcpuWhenItIsAlsoTheOneWithSys() {
        CostModel m = model(Map.of(Item.GUEST_ACCESS, 1L));
        @SuppressWarnings("unchecked")
        SimTime t = SimTime.charge(m, List.of(new Map[] {Map.of("accesses", 400_000L), Map.of("accesses", 300_000L)},
                new Map[] {Map.of(), Map.of("accesses", 500_000L)}), 0);
        assertEquals(0.7, t.realSeconds(), 1e-12, "vCPU 0: 0.3 user + 0.4 sys");
        assertEquals(0.8, t.userSeconds(), 1e-12);
        assertEquals(0.4, t.sysSeconds(), 1e-12);
    }

    @Test
    void theClockTurnsCyclesIntoSeconds() {
        Map<Item, Long> f = new EnumMap<>(Item.class);
        for (Item i : Item.values()) {
            f.put(i, 1L);
        }
        assertEquals(1.0, new CostModel(3000, f).seconds(3_000_000_000L), 1e-12);
        assertEquals(2.0, new CostModel(1500, f).seconds(3_000_000_000L), 1e-12);
    }

    @Test
    void countingRules() {
        assertEquals(7, Item.EMULATION.count(Map.of("pf_emulate", 5L, "pf_mmio", 2L), 4, 1));
        assertEquals(3, Item.IPI_WAIT.count(Map.of("remote_tlb_flush", 5L, "remote_flush_ipis", 3L), 4, 1),
                "one wait per flush that sent IPIs, however many targets");
        assertEquals(20, Item.TLB_FLUSH_REQUEST.count(Map.of("remote_flush_requests", 20L), 4, 1));
        assertEquals(9, Item.VM_EXIT.count(Map.of("exits", 7L, "ipi_exits", 2L), 4, 1), "an IPI's exit is an exit");
        assertEquals(15, Item.NOTIFIER_CALL.count(Map.of("emulated_writes", 5L), 2, 3));
        assertEquals(0, Item.MMU_LOCK.count(Map.of(), 2, 1), "a counter the MMU lacks counts 0");
        assertEquals(5, Item.MMU_LOCK.count(Map.of("mmu_lock", 2L, "mmu_lock_fault", 3L), 2, 1), "the fault handler's too");
    }

    @Test
    void defaultsAreTheConfigurationsAndBadFiguresAreRefusedInOneLine() {
        CostModel d = CostModel.defaults();
        assertEquals(3000, d.clockMhz());
        assertEquals(1200, d.cycles(Item.VM_EXIT));
        assertEquals(Item.values().length + 1, d.asMap().size());
        Map<Item, Long> f = new EnumMap<>(d.cycles());
        f.put(Item.SP_ZAP, -1L);
        VmException e = assertThrows(VmException.class, () -> new CostModel(3000, f));
        assertEquals("configuration org.shadowbox.cost: bad sp.zap -1: accepted 0 or more cycles", e.getMessage());
        e = assertThrows(VmException.class, () -> new CostModel(0, d.cycles()));
        assertTrue(e.getMessage().contains("clock.mhz 0"), e.getMessage());
    }
}
