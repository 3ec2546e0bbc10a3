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
 * Set {@code -Dshadowbox.pin.print=true} to print the current values.
 */
class MmuCountsPinTest {
    private final SimRig rig = new SimRig();

    private String counts(String name, VmSpec spec, String scenario, long seed) {
        Vm vm = rig.hv.createVm(spec);
        rig.runner.run(scenario, vm, i -> rig.mmu.cpu(vm, i), 1, seed, 1, null);
        String s = rig.mmu.stats(vm).stream().map(st -> st.name() + "=" + st.value()).collect(Collectors.joining(","));
        rig.hv.destroyVm(vm.name());
        if (Boolean.getBoolean("shadowbox.pin.print")) {
            System.out.println("PIN " + name + " " + s);
        }
        return s;
    }

    private void pin(String expected, String name, VmSpec spec, String scenario, long seed) {
        assertEquals(expected, counts(name, spec, scenario, seed), name + ": " + scenario + " seed " + seed + ", 1 thread");
    }

    private static VmSpec pc(String name) {
        return VmSpec.pc(name, 256L << 20, 2);
    }

    @Test
    void shadowPageTrackKernelBuild() {
        pin(SHADOW_KB, "shadow-kb", pc("s-kb"), "kernel-build", 1);
    }

    @Test
    void shadowLegacyForkStorm() {
        pin(LEGACY_FS, "legacy-fs", pc("l-fs").with(VmSpec.POLICY, VmSpec.POLICY_LEGACY), "fork-storm", 2);
    }

    @Test
    void shadowPageTrackPtReuse() {
        pin(SHADOW_PT, "shadow-pt", pc("s-pt"), "pt-reuse", 3);
    }

    @Test
    void tdpKernelBuild() {
        pin(TDP_KB, "tdp-kb", pc("t-kb").with(VmSpec.MMU, VmSpec.MMU_TDP), "kernel-build", 1);
    }

    @Test
    void tdpForkStorm() {
        pin(TDP_FS, "tdp-fs", pc("t-fs").with(VmSpec.MMU, VmSpec.MMU_TDP), "fork-storm", 2);
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
}
