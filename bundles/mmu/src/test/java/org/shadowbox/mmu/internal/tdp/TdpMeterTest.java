package org.shadowbox.mmu.internal.tdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmSpec;

/**
 * The TDP MMU's work by guest mode: a known sequence of accesses gives exact counts per mode,
 * by the names the cost model charges, and the legacy policy differs only in the page-track
 * lookups it does not make.
 */
class TdpMeterTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    private static final long DIRTY = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;

    private static TdpRig rig(String policy) {
        TdpRig rig = new TdpRig("t", 64L << 20, 2, "64", 64, policy);
        write(rig, PML4, 0, (PDPT << 12) | DIRTY);
        write(rig, PDPT, 0, (PD << 12) | DIRTY);
        write(rig, PD, 2, (PT << 12) | DIRTY);
        write(rig, PT, 0, (DATA << 12) | DIRTY);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        rig.vm.vcpu(1).set(Register.CR3, PML4 << 12);
        return rig;
    }

    private static void write(TdpRig rig, long table, int index, long value) {
        rig.mem.write((table << 12) + 8L * index, value, 8);
    }

    /** The non-zero counters of {@code s}, by name. */
    private static Map<String, Long> nonZero(TdpStats s) {
        Map<String, Long> m = new LinkedHashMap<>();
        s.asMap().forEach((k, v) -> {
            if (v != 0) {
                m.put(k, v);
            }
        });
        return m;
    }

    private static Map<String, Long> of(Object... kv) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
        }
        return m;
    }

    /**
     * A first user read: the entry flushes the TLB (new context); a miss walks the guest's 4
     * levels and the empty TDP root (5 entries); the violation exits, asks page track once
     * (mmu_need_write_protect), looks up the host mapping level and the pfn and makes the checks
     * under the lock, maps a 2 MiB leaf (2 tables, a 3-entry walk); the restarted
     * read misses again and walks 4 + 3 entries.
     */
    @Test
    void aFirstUserReadIsOneExitWithItsWalksTablesAndLookupChargedToUserMode() {
        TdpRig rig = rig(VmSpec.POLICY_PAGETRACK);
        TdpVcpu cpu = rig.cpu(0);
        assertTrue(cpu.read(GVA, 8, true, rig.r).ok());
        TdpStats user = cpu.meter().work(true);
        assertEquals(of("pf_taken", 1, "pf_fixed", 1, "tlb_flush", 1, "tlb_miss", 2, "mmu_cache_miss", 2, "lpages", 1,
                "mmu_lock_fault", 1, "exits", 1, "shadow_walk_steps", 3, "tlb_walk_steps", 12, "page_track_lookups", 1,
                "host_mapping_level", 1, "gfn_to_pfn", 1, "fault_lock_checks", 1),
                nonZero(user), user.toString());
        assertEquals(Map.of(), nonZero(cpu.meter().work(false)), "nothing charged to supervisor mode");
        assertEquals(1, cpu.meter().accesses(true));
        assertEquals(0, cpu.meter().accesses(false));

        assertTrue(cpu.read(GVA + 8, 8, true, rig.r).ok());
        assertEquals(2, cpu.meter().accesses(true));
        assertEquals(user.asMap(), cpu.meter().work(true).asMap(), "a TLB hit is only counted as an access");
    }

    /**
     * Supervisor work with no exit (CR3 load, INVLPG: each a TLB flush), then a tracker
     * write-protects the page (its own work, charged to no vCPU; its remote flush finds the vCPU
     * in guest mode and kicks it) and a supervisor write exits: the IPI's exit and the pending
     * flush, one miss of 4 + 3 entries, one page-track lookup, one emulation.
     */
    @Test
    void cr3InvlpgAndATrackedWriteAreChargedToSupervisorMode() {
        TdpRig rig = rig(VmSpec.POLICY_PAGETRACK);
        TdpVcpu cpu = rig.cpu(0);
        assertTrue(cpu.read(GVA, 8, true, rig.r).ok());
        TdpStats user = cpu.meter().work(true);
        assertTrue(cpu.write(GVA, 5, 8, false, rig.r).ok());
        assertEquals(Map.of(), nonZero(cpu.meter().work(false)), "a write through a writable, dirty entry: a hit");
        cpu.writeCr3(PML4 << 12);
        cpu.invlpg(GVA);
        assertEquals(of("invlpg", 1, "tlb_flush", 2), nonZero(cpu.meter().work(false)), "no exit under EPT");
        rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE);
        assertTrue(cpu.write(GVA, 6, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        assertEquals(of("pf_taken", 1, "pf_emulate", 1, "pf_emulate_tracked", 1, "invlpg", 1, "tlb_flush", 3,
                "tlb_miss", 1, "exits", 1, "tlb_walk_steps", 7, "emulated_writes", 1, "page_track_lookups", 1,
                "ipi_exits", 1), nonZero(cpu.meter().work(false)));
        assertEquals(2, cpu.meter().accesses(false));
        assertEquals(user.asMap(), cpu.meter().work(true).asMap(), "user mode charged nothing more");
        TdpStats vm = rig.mmu.stats();
        assertEquals(1, vm.get(TdpCounter.GFN_WRITE_PROTECT), "the tracker's write protection happened ...");
        assertEquals(0, cpu.meter().work(false).get(TdpCounter.GFN_WRITE_PROTECT) + user.get(TdpCounter.GFN_WRITE_PROTECT), "... outside every window");
    }

    /** The same accesses under both policies: the same work but the page-track lookups. */
    @Test
    void legacyDoesTheSameWorkWithoutPageTrackLookups() {
        Map<String, Long>[] work = new Map[2];
        String[] policies = {VmSpec.POLICY_PAGETRACK, VmSpec.POLICY_LEGACY};
        for (int p = 0; p < 2; p++) {
            TdpRig rig = rig(policies[p]);
            TdpVcpu cpu = rig.cpu(0);
            write(rig, PT, 1, (0xa0L << 12) | DIRTY); // the PC hole at 640 KiB: no memslot, MMIO
            assertTrue(cpu.read(GVA, 8, true, rig.r).ok());
            assertTrue(cpu.write(GVA + 16, 1, 8, false, rig.r).ok());
            assertTrue(cpu.write(GVA + 0x1000, 2, 4, false, rig.r).ok());
            assertTrue(rig.r.emulated, "MMIO");
            cpu.writeCr3(PML4 << 12);
            assertTrue(cpu.read(GVA, 8, false, rig.r).ok());
            TdpStats total = cpu.meter().work(true);
            total.add(cpu.meter().work(false));
            work[p] = total.asMap();
            rig.assertConsistent(policies[p]);
        }
        assertEquals(1, work[0].get("page_track_lookups"), "mmu_need_write_protect at the one mapping: " + work[0]);
        assertEquals(0, work[1].get("page_track_lookups"), "legacy never asks page track");
        assertEquals(1, work[0].get("pf_mmio"));
        assertEquals(0, work[0].get("pf_emulate"), "MMIO is not also counted as pf_emulate");
        work[0].put("page_track_lookups", 0L);
        assertEquals(work[0], work[1]);
    }

    @Test
    void addScaledAndAsMapCoverEveryCounter() {
        TdpStats a = new TdpStats();
        long n = 1;
        for (TdpCounter c : TdpCounter.values()) {
            a.set(c, n++);
        }
        TdpStats b = a.copy();
        b.addScaled(a, 2);
        b.addScaled(b, -1);
        TdpStats copy = a.copy();
        for (TdpCounter c : TdpCounter.values()) {
            assertEquals(c.ordinal() + 1, copy.get(c), "copy misses " + c);
            assertEquals(0, b.get(c), "addScaled misses " + c);
        }
        assertEquals(n - 1, a.asMap().size(), "asMap names every counter");
        assertEquals(n - 1, a.asMap().values().stream().distinct().count(), "each name its own counter");
    }
}
