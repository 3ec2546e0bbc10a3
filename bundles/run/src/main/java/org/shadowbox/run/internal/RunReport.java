package org.shadowbox.run.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import org.shadowbox.guest.GuestCounts;

/**
 * One scenario run on the MMU, charged by the cost model.
 *
 * @param scenario    the scenario's name
 * @param vm          the VM it ran on
 * @param mmu         the VM's {@code mmu} option (shadow, tdp)
 * @param policy      the VM's {@code policy} option (pagetrack, legacy)
 * @param paging      the guest's paging mode
 * @param vcpus       vCPUs
 * @param threads     host threads that drove them (1: the deterministic interleaving; more: an
 *                    SMP guest whose counts vary run to run)
 * @param memoryBytes guest memory covered by memslots
 * @param scale       scale run
 * @param seed        seed run
 * @param time        the simulated time (real, user, sys) and its breakdown
 * @param mmuStats    the change of every MMU counter during the run ({@code Mmu.stats} names)
 * @param counts      the guest's own counts (identical for equal seeds on any MMU)
 * @param checksum    the guest's memory checksum after the run
 * @param hostNanos   host wall time of the simulation (boot, workload, verification)
 * @param hostCpuNanos host CPU time of it, on one host thread (the thread's own clock: what a
 *                    loaded machine's other processes do not inflate); -1 with several threads
 * @param model       the cost model charged
 * @param notifiers   page-track notifiers attached to the VM during the run
 * @param workloadAccesses guest accesses of the workload itself, the ones charged: from the
 *                    scenario's start (after the guest's boot) to its last unit done (before the
 *                    runner's verification reads)
 * @param warmup      units run before the charged window opened (not charged)
 */
public record RunReport(String scenario, String vm, String mmu, String policy, String paging, int vcpus,
        int threads, long memoryBytes, long scale, long seed, SimTime time, Map<String, Long> mmuStats, GuestCounts counts,
        long checksum, long hostNanos, long hostCpuNanos, CostModel model, int notifiers, long workloadAccesses, long warmup) {

    /** The event counts of the report, by label, in the order the tables print them. */
    public Map<String, Long> events() {
        Map<String, Long> e = new LinkedHashMap<>();
        e.put("VM exits", stat("exits"));
        e.put("faults fixed", stat("pf_fixed"));
        e.put("guest page faults", stat("pf_guest") + stat("guest_pf")); // reflected (shadow) or direct (TDP)
        e.put("emulations", stat("pf_emulate") + stat("pf_mmio"));
        e.put("pte writes", stat("mmu_pte_write_fallback") + stat("mmu_pte_write_handled"));
        e.put("pte-write zaps", stat("mmu_pte_write_zapped"));
        e.put("shadow pages made", stat("mmu_cache_miss"));
        e.put("shadow pages zapped", stat("mmu_shadow_zapped"));
        e.put("unsyncs", stat("unsync_marked"));
        e.put("resyncs", stat("mmu_sync_page"));
        e.put("hash chain steps", stat("hash_chain_steps"));
        e.put("local TLB flushes", stat("tlb_flush"));
        e.put("remote TLB flushes", stat("remote_tlb_flush"));
        e.put("remote flush IPIs sent", stat("remote_flush_ipis"));
        e.put("IPI exits (targets)", stat("ipi_exits"));
        if (mmuStats.containsKey("n_max_mmu_pages")) { // the shadow MMU's pages (levels at the run's end)
            e.put("live shadow pages, end", stat("n_used_mmu_pages"));
            e.put("live shadow pages, peak", stat("n_used_mmu_pages_peak"));
            e.put("shadow page cap", stat("n_max_mmu_pages"));
            e.put("recycled pages", stat("mmu_recycled"));
        }
        if (mmuStats.containsKey("page_track_lookups")) { // the TDP MMU counts them; they are not charged
            e.put("page-track lookups", stat("page_track_lookups"));
        }
        e.put("guest accesses", workloadAccesses);
        return e;
    }

    /** Hash chain steps per lookup by gfn during the run (0 with no lookup): the mean chain walked. */
    public double meanHashChain() {
        long lookups = stat("hash_lookups");
        return lookups == 0 ? 0 : (double) stat("hash_chain_steps") / lookups;
    }

    /** An MMU counter's change during the run, 0 if the MMU has no such counter. */
    public long stat(String name) {
        Long v = mmuStats.get(name);
        return v == null ? 0 : v;
    }

    /** Simulated guest memory accesses (all the guest made: boot, workload) per host second of the whole run. */
    public double accessesPerHostSecond() {
        return hostNanos == 0 ? 0 : counts.accesses() * 1e9 / hostNanos;
    }
}
