package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * Pins every MMU counter of a few seeded one-thread runs (shadow under both policies, and TDP;
 * kernel-build at scale 1 and fork-storm) to the values the MMU gave before issue 15's work on
 * locking and statistics. One host thread is the deterministic interleaving: the same seed
 * must do exactly the same modelled work, whatever the MMU's locking or counter layout. A change
 * of these values is a change of the model, not of its speed, and must be argued on its own.
 * Each vCPU's exit work by guest mode, what the cost model prices, is pinned the same way.
 * Set {@code -Dshadowbox.pin.print=true} to print the current values.
 */
class MmuCountsPinTest {
    private final SimRig rig = new SimRig();

    /** Every MMU counter, then each vCPU's exit work by guest mode (the cost model's input), nonzero counters only. */
    private String[] counts(String name, VmSpec spec, String scenario, long seed) {
        Vm vm = rig.hv.createVm(spec);
        rig.runner.run(scenario, vm, i -> rig.mmu.cpu(vm, i), 1, seed, 1, null);
        String s = rig.mmu.stats(vm).stream().map(st -> st.name() + "=" + st.value()).collect(Collectors.joining(","));
        StringBuilder w = new StringBuilder();
        for (int i = 0; i < vm.vcpuCount(); i++) {
            for (boolean user : new boolean[] {false, true}) {
                w.append(w.length() == 0 ? "" : ";").append(i).append(user ? "u:" : "s:")
                        .append(rig.mmu.work(vm, i, user).entrySet().stream().filter(e -> e.getValue() != 0)
                                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")));
            }
        }
        rig.hv.destroyVm(vm.name());
        if (Boolean.getBoolean("shadowbox.pin.print")) {
            System.out.println("PIN " + name + " " + s);
            System.out.println("PINWORK " + name + " " + w);
        }
        return new String[] {s, w.toString()};
    }

    private void pin(String expected, String expectedWork, String name, VmSpec spec, String scenario, long seed) {
        String[] got = counts(name, spec, scenario, seed);
        assertEquals(expected, got[0], name + ": " + scenario + " seed " + seed + ", 1 thread");
        assertEquals(expectedWork, got[1], name + ": " + scenario + " seed " + seed + ", 1 thread, work by vCPU and mode");
    }

    private static VmSpec pc(String name) {
        return VmSpec.pc(name, 256L << 20, 2);
    }

    @Test
    void shadowPageTrackKernelBuild() {
        pin(SHADOW_KB, SHADOW_KB_WORK, "shadow-kb", pc("s-kb"), "kernel-build", 1);
    }

    @Test
    void shadowLegacyForkStorm() {
        pin(LEGACY_FS, LEGACY_FS_WORK, "legacy-fs", pc("l-fs").with(VmSpec.POLICY, VmSpec.POLICY_LEGACY), "fork-storm", 2);
    }

    @Test
    void shadowPageTrackPtReuse() {
        pin(SHADOW_PT, SHADOW_PT_WORK, "shadow-pt", pc("s-pt"), "pt-reuse", 3);
    }

    @Test
    void tdpKernelBuild() {
        pin(TDP_KB, TDP_KB_WORK, "tdp-kb", pc("t-kb").with(VmSpec.MMU, VmSpec.MMU_TDP), "kernel-build", 1);
    }

    @Test
    void tdpForkStorm() {
        pin(TDP_FS, TDP_FS_WORK, "tdp-fs", pc("t-fs").with(VmSpec.MMU, VmSpec.MMU_TDP), "fork-storm", 2);
    }

    // The values of main at 93cb847 (before issue 15), printed by this test with shadowbox.pin.print;
    // since then only mmu_pte_write_duplicates, a counter nothing ever incremented, is gone.
    private static final String SHADOW_KB = "pf_fixed=5924,pf_emulate=153,pf_guest=4167,pf_mmio=0,invlpg=1254,tlb_flush=4299"
            + ",tlb_hit=2169875,tlb_miss=237446,remote_tlb_flush=1927,mmu_cache_miss=235"
            + ",mmu_shadow_zapped=218,mmu_unsync=0,mmu_recycled=0,mmu_sync_page=288"
            + ",mmu_pte_write_fallback=153,mmu_pte_write_fallback_zapped=153"
            + ",mmu_pte_write_handled=0,gfn_write_protect=454"
            + ",hash_chain_steps=1581,exits=11776,guest_walk_steps=39708"
            + ",shadow_walk_steps=24286,tlb_walk_steps=948633,mmu_lock=1753,emulated_writes=153"
            + ",unsync_marked=337,mmu_pte_write_zapped=202,pf_taken=10244"
            + ",pf_emulate_tracked=153,pf_emulate_wp=0,mmu_lock_fault=5924,pte_write_emulator=0"
            + ",self_change_checks=5919,host_mapping_level=1107,gfn_to_pfn=5924"
            + ",fault_lock_checks=5924,gpte_rechecks=22574,ipi_exits=964,remote_flush_ipis=965"
            + ",remote_flush_requests=3854,hash_lookups=29248,n_used_mmu_pages=18"
            + ",n_used_mmu_pages_peak=62,n_max_mmu_pages=1308";
    private static final String LEGACY_FS = "pf_fixed=5018,pf_emulate=232,pf_guest=2165,pf_mmio=0,invlpg=1309,tlb_flush=3078"
            + ",tlb_hit=1583662,tlb_miss=42674,remote_tlb_flush=1528,mmu_cache_miss=315"
            + ",mmu_shadow_zapped=299,mmu_unsync=0,mmu_recycled=0,mmu_sync_page=77"
            + ",mmu_pte_write_fallback=232,mmu_pte_write_fallback_zapped=232"
            + ",mmu_pte_write_handled=0,gfn_write_protect=310"
            + ",hash_chain_steps=1030,exits=8632,guest_walk_steps=28521,shadow_walk_steps=20054"
            + ",tlb_walk_steps=168909,mmu_lock=1725,emulated_writes=232,unsync_marked=144"
            + ",mmu_pte_write_zapped=299,pf_taken=7183,pf_emulate_tracked=0,pf_emulate_wp=232"
            + ",mmu_lock_fault=5018,pte_write_emulator=232,self_change_checks=5013"
            + ",host_mapping_level=187,gfn_to_pfn=5018,fault_lock_checks=5018"
            + ",gpte_rechecks=19870,ipi_exits=303,remote_flush_ipis=304"
            + ",remote_flush_requests=3056,hash_lookups=3542,n_used_mmu_pages=17"
            + ",n_used_mmu_pages_peak=37,n_max_mmu_pages=1308";
    private static final String SHADOW_PT = "pf_fixed=1171,pf_emulate=285,pf_guest=640,pf_mmio=0,invlpg=0,tlb_flush=599"
            + ",tlb_hit=480868,tlb_miss=5737,remote_tlb_flush=708,mmu_cache_miss=559"
            + ",mmu_shadow_zapped=364,mmu_unsync=181,mmu_recycled=0,mmu_sync_page=71"
            + ",mmu_pte_write_fallback=285,mmu_pte_write_fallback_zapped=285"
            + ",mmu_pte_write_handled=0,gfn_write_protect=282"
            + ",hash_chain_steps=1022,exits=2112,guest_walk_steps=8088,shadow_walk_steps=5814"
            + ",tlb_walk_steps=22066,mmu_lock=316,emulated_writes=285,unsync_marked=260"
            + ",mmu_pte_write_zapped=293,pf_taken=2096,pf_emulate_tracked=285,pf_emulate_wp=0"
            + ",mmu_lock_fault=1171,pte_write_emulator=0,self_change_checks=1166"
            + ",host_mapping_level=5,gfn_to_pfn=1171,fault_lock_checks=1171,gpte_rechecks=4664"
            + ",ipi_exits=10,remote_flush_ipis=11,remote_flush_requests=1416,hash_lookups=2027"
            + ",n_used_mmu_pages=196,n_used_mmu_pages_peak=202,n_max_mmu_pages=1308";
    private static final String TDP_KB = "pf_taken=258,pf_fixed=258,pf_emulate=0,pf_emulate_tracked=0,pf_mmio=0"
            + ",pf_spurious=0,guest_pf=4167,invlpg=1254,tlb_flush=1535,tlb_hit=2191334"
            + ",tlb_miss=210321,remote_tlb_flush=0,mmu_cache_miss=3,mmu_shadow_zapped=0"
            + ",lpages=2,gfn_write_protect=0,mmu_lock_fault=258,exits=258"
            + ",shadow_walk_steps=1030,tlb_walk_steps=1510769,emulated_writes=0"
            + ",page_track_lookups=258,host_mapping_level=258,gfn_to_pfn=258"
            + ",fault_lock_checks=258,ipi_exits=0,remote_flush_ipis=0,remote_flush_requests=0"
            + ",n_used_mmu_pages=4";
    private static final String TDP_FS = "pf_taken=257,pf_fixed=257,pf_emulate=0,pf_emulate_tracked=0,pf_mmio=0"
            + ",pf_spurious=0,guest_pf=2165,invlpg=1309,tlb_flush=1452,tlb_hit=1585597"
            + ",tlb_miss=36210,remote_tlb_flush=0,mmu_cache_miss=3,mmu_shadow_zapped=0,lpages=1"
            + ",gfn_write_protect=0,mmu_lock_fault=257,exits=257,shadow_walk_steps=1027"
            + ",tlb_walk_steps=269087,emulated_writes=0,page_track_lookups=257"
            + ",host_mapping_level=257,gfn_to_pfn=257,fault_lock_checks=257,ipi_exits=0"
            + ",remote_flush_ipis=0,remote_flush_requests=0,n_used_mmu_pages=4";

    // Each vCPU's exit work by guest mode, as ExitMeter charged it on main at f87b133, printed by
    // this test with shadowbox.pin.print: a cheaper meter must charge exactly the same.
    private static final String SHADOW_KB_WORK = "0s:accesses=721498,pf_fixed=848,pf_emulate=89,invlpg=623,tlb_flush=1508,tlb_miss=9173,"
            + "remote_tlb_flush=910,mmu_cache_miss=55,mmu_shadow_zapped=125,mmu_sync_page=146,"
            + "mmu_pte_write_fallback=89,mmu_pte_write_fallback_zapped=89,gfn_write_protect=159,"
            + "hash_chain_steps=781,exits=1704,guest_walk_steps=3153,shadow_walk_steps=3733,"
            + "tlb_walk_steps=36255,mmu_lock=886,emulated_writes=89,unsync_marked=174,"
            + "mmu_pte_write_zapped=117,pf_taken=937,pf_emulate_tracked=89,mmu_lock_fault=848,"
            + "self_change_checks=843,host_mapping_level=548,gfn_to_pfn=848,fault_lock_checks=848,"
            + "gpte_rechecks=2829,remote_flush_ipis=481,remote_flush_requests=1820,hash_lookups=13827;"
            + "0u:accesses=485661,pf_fixed=2125,pf_guest=2100,tlb_flush=658,tlb_miss=109743,"
            + "remote_tlb_flush=78,mmu_cache_miss=78,gfn_write_protect=78,hash_chain_steps=64,"
            + "exits=4225,guest_walk_steps=16858,shadow_walk_steps=8500,tlb_walk_steps=438784,"
            + "mmu_lock=9,pf_taken=4225,mmu_lock_fault=2125,self_change_checks=2125,gfn_to_pfn=2125,"
            + "fault_lock_checks=2125,gpte_rechecks=8500,ipi_exits=480,remote_flush_ipis=4,"
            + "remote_flush_requests=156,hash_lookups=1072;1s:accesses=711644,pf_fixed=864,"
            + "pf_emulate=64,invlpg=631,tlb_flush=1474,tlb_miss=9242,remote_tlb_flush=870,"
            + "mmu_cache_miss=31,mmu_shadow_zapped=93,mmu_unsync=1,mmu_sync_page=141,"
            + "mmu_pte_write_fallback=64,mmu_pte_write_fallback_zapped=64,gfn_write_protect=148,"
            + "hash_chain_steps=672,exits=1693,guest_walk_steps=3123,shadow_walk_steps=3705,"
            + "tlb_walk_steps=36606,mmu_lock=851,emulated_writes=64,unsync_marked=163,"
            + "mmu_pte_write_zapped=85,pf_taken=928,pf_emulate_tracked=64,mmu_lock_fault=864,"
            + "self_change_checks=864,host_mapping_level=559,gfn_to_pfn=864,fault_lock_checks=864,"
            + "gpte_rechecks=2897,remote_flush_ipis=475,remote_flush_requests=1740,hash_lookups=13309;"
            + "1u:accesses=482594,pf_fixed=2087,pf_guest=2067,tlb_flush=659,tlb_miss=109288,"
            + "remote_tlb_flush=69,mmu_cache_miss=71,mmu_unsync=-1,mmu_sync_page=1,"
            + "gfn_write_protect=69,hash_chain_steps=64,exits=4154,guest_walk_steps=16574,"
            + "shadow_walk_steps=8348,tlb_walk_steps=436988,mmu_lock=7,pf_taken=4154,"
            + "mmu_lock_fault=2087,self_change_checks=2087,gfn_to_pfn=2087,fault_lock_checks=2087,"
            + "gpte_rechecks=8348,ipi_exits=484,remote_flush_ipis=5,remote_flush_requests=138,"
            + "hash_lookups=1040";
    private static final String LEGACY_FS_WORK = "0s:accesses=856550,pf_fixed=535,pf_emulate=104,invlpg=666,tlb_flush=1353,tlb_miss=11085,"
            + "remote_tlb_flush=693,mmu_cache_miss=62,mmu_shadow_zapped=134,mmu_unsync=2,"
            + "mmu_sync_page=43,mmu_pte_write_fallback=104,mmu_pte_write_fallback_zapped=104,"
            + "gfn_write_protect=63,hash_chain_steps=484,exits=1270,guest_walk_steps=2043,"
            + "shadow_walk_steps=2126,tlb_walk_steps=43577,mmu_lock=861,emulated_writes=104,"
            + "unsync_marked=75,mmu_pte_write_zapped=134,pf_taken=535,pf_emulate_wp=104,"
            + "mmu_lock_fault=535,pte_write_emulator=104,self_change_checks=530,host_mapping_level=82,"
            + "gfn_to_pfn=535,fault_lock_checks=535,gpte_rechecks=2043,ipi_exits=1,"
            + "remote_flush_ipis=157,remote_flush_requests=1386,hash_lookups=858;0u:accesses=14833,"
            + "pf_fixed=2054,pf_guest=1155,tlb_flush=209,tlb_miss=10138,remote_tlb_flush=93,"
            + "mmu_cache_miss=96,gfn_write_protect=93,hash_chain_steps=17,exits=3209,"
            + "guest_walk_steps=12830,shadow_walk_steps=8216,tlb_walk_steps=40396,pf_taken=3209,"
            + "mmu_lock_fault=2054,self_change_checks=2054,gfn_to_pfn=2054,fault_lock_checks=2054,"
            + "gpte_rechecks=8216,ipi_exits=146,remote_flush_requests=186,hash_lookups=1036;"
            + "1s:accesses=735507,pf_fixed=394,pf_emulate=128,invlpg=643,tlb_flush=1296,tlb_miss=11667,"
            + "remote_tlb_flush=639,mmu_cache_miss=54,mmu_shadow_zapped=165,mmu_unsync=-2,"
            + "mmu_sync_page=34,mmu_pte_write_fallback=128,mmu_pte_write_fallback_zapped=128,"
            + "gfn_write_protect=51,hash_chain_steps=507,exits=1108,guest_walk_steps=1471,"
            + "shadow_walk_steps=1572,tlb_walk_steps=45953,mmu_lock=863,emulated_writes=128,"
            + "unsync_marked=69,mmu_pte_write_zapped=165,pf_taken=394,pf_emulate_wp=128,"
            + "mmu_lock_fault=394,pte_write_emulator=128,self_change_checks=394,host_mapping_level=105,"
            + "gfn_to_pfn=394,fault_lock_checks=394,gpte_rechecks=1471,remote_flush_ipis=147,"
            + "remote_flush_requests=1278,hash_lookups=755;1u:accesses=14660,pf_fixed=2035,"
            + "pf_guest=1010,tlb_flush=220,tlb_miss=9784,remote_tlb_flush=103,mmu_cache_miss=103,"
            + "gfn_write_protect=103,hash_chain_steps=22,exits=3045,guest_walk_steps=12177,"
            + "shadow_walk_steps=8140,tlb_walk_steps=38983,mmu_lock=1,pf_taken=3045,"
            + "mmu_lock_fault=2035,self_change_checks=2035,gfn_to_pfn=2035,fault_lock_checks=2035,"
            + "gpte_rechecks=8140,ipi_exits=156,remote_flush_requests=206,hash_lookups=893";
    private static final String SHADOW_PT_WORK = "0s:accesses=244786,pf_fixed=223,pf_emulate=143,tlb_flush=164,tlb_miss=1658,"
            + "remote_tlb_flush=147,mmu_cache_miss=22,mmu_shadow_zapped=147,mmu_unsync=126,"
            + "mmu_pte_write_fallback=143,mmu_pte_write_fallback_zapped=143,gfn_write_protect=5,"
            + "hash_chain_steps=319,exits=374,guest_walk_steps=1444,shadow_walk_steps=1454,"
            + "tlb_walk_steps=6581,mmu_lock=160,emulated_writes=143,unsync_marked=130,"
            + "mmu_pte_write_zapped=147,pf_taken=366,pf_emulate_tracked=143,mmu_lock_fault=223,"
            + "self_change_checks=218,host_mapping_level=5,gfn_to_pfn=223,fault_lock_checks=223,"
            + "gpte_rechecks=872,remote_flush_ipis=6,remote_flush_requests=294,hash_lookups=391;"
            + "0u:accesses=1024,pf_fixed=320,pf_guest=320,tlb_flush=138,tlb_miss=1169,"
            + "remote_tlb_flush=216,mmu_cache_miss=264,mmu_shadow_zapped=39,mmu_unsync=-39,"
            + "mmu_sync_page=39,gfn_write_protect=138,hash_chain_steps=220,exits=640,"
            + "guest_walk_steps=2422,shadow_walk_steps=1280,tlb_walk_steps=4274,pf_taken=640,"
            + "mmu_lock_fault=320,self_change_checks=320,gfn_to_pfn=320,fault_lock_checks=320,"
            + "gpte_rechecks=1280,ipi_exits=5,remote_flush_requests=432,hash_lookups=584;"
            + "1s:accesses=238600,pf_fixed=308,pf_emulate=142,tlb_flush=158,tlb_miss=1731,"
            + "remote_tlb_flush=143,mmu_cache_miss=9,mmu_shadow_zapped=146,mmu_unsync=126,"
            + "mmu_pte_write_fallback=142,mmu_pte_write_fallback_zapped=142,gfn_write_protect=1,"
            + "hash_chain_steps=292,exits=458,guest_walk_steps=1800,shadow_walk_steps=1800,"
            + "tlb_walk_steps=6897,mmu_lock=156,emulated_writes=142,unsync_marked=130,"
            + "mmu_pte_write_zapped=146,pf_taken=450,pf_emulate_tracked=142,mmu_lock_fault=308,"
            + "self_change_checks=308,gfn_to_pfn=308,fault_lock_checks=308,gpte_rechecks=1232,"
            + "remote_flush_ipis=5,remote_flush_requests=286,hash_lookups=468;1u:accesses=1024,"
            + "pf_fixed=320,pf_guest=320,tlb_flush=139,tlb_miss=1179,remote_tlb_flush=202,"
            + "mmu_cache_miss=264,mmu_shadow_zapped=32,mmu_unsync=-32,mmu_sync_page=32,"
            + "gfn_write_protect=138,hash_chain_steps=191,exits=640,guest_walk_steps=2422,"
            + "shadow_walk_steps=1280,tlb_walk_steps=4314,pf_taken=640,mmu_lock_fault=320,"
            + "self_change_checks=320,gfn_to_pfn=320,fault_lock_checks=320,gpte_rechecks=1280,"
            + "ipi_exits=5,remote_flush_requests=404,hash_lookups=584";
    private static final String TDP_KB_WORK = "0s:accesses=721498,pf_taken=118,pf_fixed=118,invlpg=623,tlb_flush=769,tlb_miss=7596,"
            + "mmu_cache_miss=3,lpages=1,mmu_lock_fault=118,exits=118,shadow_walk_steps=471,"
            + "tlb_walk_steps=54059,page_track_lookups=118,host_mapping_level=118,gfn_to_pfn=118,"
            + "fault_lock_checks=118;0u:accesses=485661,tlb_miss=97946,tlb_walk_steps=702884;"
            + "1s:accesses=711644,pf_taken=140,pf_fixed=140,invlpg=631,tlb_flush=765,tlb_miss=7762,"
            + "lpages=1,mmu_lock_fault=140,exits=140,shadow_walk_steps=559,tlb_walk_steps=55508,"
            + "page_track_lookups=140,host_mapping_level=140,gfn_to_pfn=140,fault_lock_checks=140;"
            + "1u:accesses=482594,guest_pf=1,tlb_flush=1,tlb_miss=97017,tlb_walk_steps=698318";
    private static final String TDP_FS_WORK = "0s:accesses=856550,pf_taken=218,pf_fixed=218,invlpg=666,tlb_flush=737,tlb_miss=10355,"
            + "mmu_cache_miss=3,lpages=1,mmu_lock_fault=218,exits=218,shadow_walk_steps=871,"
            + "tlb_walk_steps=78447,page_track_lookups=218,host_mapping_level=218,gfn_to_pfn=218,"
            + "fault_lock_checks=218;0u:accesses=14833,tlb_miss=7691,tlb_walk_steps=55736;"
            + "1s:accesses=735507,pf_taken=39,pf_fixed=39,invlpg=643,tlb_flush=714,tlb_miss=10844,"
            + "mmu_lock_fault=39,exits=39,shadow_walk_steps=156,tlb_walk_steps=81276,"
            + "page_track_lookups=39,host_mapping_level=39,gfn_to_pfn=39,fault_lock_checks=39;"
            + "1u:accesses=14660,tlb_flush=1,tlb_miss=7320,tlb_walk_steps=53628";
}
