package org.shadowbox.run.internal;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.shadowbox.mmu.meter.MmuMeter;
import org.shadowbox.vm.VmException;

/**
 * Simulated cycles per event of work ({@link CostConfig}), and the counting rule of each
 * {@link Item}: which of the MMU's counters (by {@link org.shadowbox.mmu.Mmu#stats} name) measure
 * how often that work was done. One table for every MMU and policy: nothing here knows whether a
 * VM runs the legacy or the page-track path.
 */
public record CostModel(int clockMhz, Map<Item, Long> cycles) {
    /** Configuration Admin PID of {@link CostConfig}. */
    public static final String PID = "org.shadowbox.cost";

    /** The kinds of work charged, with their configuration key and how they are counted. */
    public enum Item {
        GUEST_ACCESS("guest.access", "guest instructions (per memory access)", 2, 5),
        VM_EXIT("vm.exit", "VM exits and entries", 800, 1500),
        GUEST_WALK_STEP("guest.walk.step", "guest page-table walk steps (software)", 20, 80),
        GPTE_RECHECK("gpte.recheck", "guest ptes rechecked by the shadow fetch", 20, 80),
        SHADOW_WALK_STEP("shadow.walk.step", "shadow page-table walk steps (software)", 5, 30),
        TLB_WALK_STEP("tlb.walk.step", "TLB refill walk steps (hardware)", 4, 30),
        HASH_CHAIN_STEP("hash.chain.step", "shadow-page hash chain steps", 5, 100),
        MMU_LOCK("mmu.lock", "MMU lock acquisitions", 20, 100),
        SP_ALLOC("sp.alloc", "shadow pages allocated", 500, 2000),
        SP_ZAP("sp.zap", "shadow pages zapped", 1000, 5000),
        SP_SYNC("sp.sync", "shadow pages resynced", 2000, 10000),
        SP_UNSYNC("sp.unsync", "shadow pages marked unsync", 50, 300),
        EMULATION("emulation", "instructions emulated", 2000, 5000),
        NOTIFIER_CALL("notifier.call", "page-track notifier calls", 10, 60),
        FAULT_SELF_CHANGE("fault.self.change", "self-change checks (full fault path)", 10, 40),
        HOST_MAPPING_LEVEL("host.mapping.level", "host mapping level lookups", 60, 400),
        GFN_TO_PFN("gfn.to.pfn", "gfn to pfn translations", 100, 500),
        FAULT_LOCK_CHECKS("fault.lock.checks", "notifier-retry and free-page checks", 5, 20),
        TLB_FLUSH_LOCAL("tlb.flush.local", "local TLB flushes", 100, 500),
        TLB_FLUSH_REQUEST("tlb.flush.request", "remote flush requests (per vCPU)", 15, 40),
        IPI_WAIT("ipi.wait", "remote flushes waiting on IPIs", 3000, 9000);

        /** The configuration key (PID {@value CostModel#PID}). */
        public final String key;
        public final String label;
        /** The lowest figure the sources give (docs/cost-model.md). */
        public final long low;
        /** The highest figure the sources give. */
        public final long high;

        Item(String key, String label, long low, long high) {
            this.key = key;
            this.label = label;
            this.low = low;
            this.high = high;
        }

        /**
         * How many times this work was done, from one vCPU's work in one guest mode
         * ({@link MmuMeter#work}); a counter the MMU does not report counts 0.
         *
         * @param vcpus     the VM's vCPUs (unused since remote flushes are counted by the MMU per
         *                  request and per IPI; kept for the callers)
         * @param notifiers page-track notifiers attached to the VM (each hears every emulated write)
         */
        public long count(Map<String, Long> w, int vcpus, int notifiers) {
            return switch (this) {
                case GUEST_ACCESS -> get(w, MmuMeter.ACCESSES);
                case VM_EXIT -> get(w, "exits") + get(w, "ipi_exits");
                case GUEST_WALK_STEP -> get(w, "guest_walk_steps");
                case GPTE_RECHECK -> get(w, "gpte_rechecks");
                case SHADOW_WALK_STEP -> get(w, "shadow_walk_steps");
                case TLB_WALK_STEP -> get(w, "tlb_walk_steps");
                case HASH_CHAIN_STEP -> get(w, "hash_chain_steps");
                case MMU_LOCK -> get(w, "mmu_lock") + get(w, "mmu_lock_fault");
                case SP_ALLOC -> get(w, "mmu_cache_miss");
                case SP_ZAP -> get(w, "mmu_shadow_zapped");
                case SP_SYNC -> get(w, "mmu_sync_page");
                case SP_UNSYNC -> get(w, "unsync_marked");
                case EMULATION -> get(w, "pf_emulate") + get(w, "pf_mmio");
                case NOTIFIER_CALL -> get(w, "emulated_writes") * notifiers;
                case FAULT_SELF_CHANGE -> get(w, "self_change_checks");
                case HOST_MAPPING_LEVEL -> get(w, "host_mapping_level");
                case GFN_TO_PFN -> get(w, "gfn_to_pfn");
                case FAULT_LOCK_CHECKS -> get(w, "fault_lock_checks");
                case TLB_FLUSH_LOCAL -> get(w, "tlb_flush");
                case TLB_FLUSH_REQUEST -> get(w, "remote_flush_requests");
                case IPI_WAIT -> get(w, "remote_flush_ipis");
            };
        }

        private static long get(Map<String, Long> w, String name) {
            Long v = w.get(name);
            return v == null ? 0 : v;
        }
    }

    public CostModel {
        if (clockMhz < 1) {
            throw new VmException("configuration " + PID + ": bad clock.mhz " + clockMhz + ": accepted 1 or more");
        }
        EnumMap<Item, Long> c = new EnumMap<>(Item.class);
        for (Item i : Item.values()) {
            Long v = cycles.get(i);
            if (v == null || v < 0) {
                throw new VmException("configuration " + PID + ": bad " + i.key + " " + v + ": accepted 0 or more cycles");
            }
            c.put(i, v);
        }
        cycles = java.util.Collections.unmodifiableMap(c);
    }

    /** The figures of a configuration. */
    public static CostModel of(CostConfig c) {
        EnumMap<Item, Long> m = new EnumMap<>(Item.class);
        m.put(Item.GUEST_ACCESS, (long) c.guest_access());
        m.put(Item.VM_EXIT, (long) c.vm_exit());
        m.put(Item.GUEST_WALK_STEP, (long) c.guest_walk_step());
        m.put(Item.GPTE_RECHECK, (long) c.gpte_recheck());
        m.put(Item.SHADOW_WALK_STEP, (long) c.shadow_walk_step());
        m.put(Item.TLB_WALK_STEP, (long) c.tlb_walk_step());
        m.put(Item.HASH_CHAIN_STEP, (long) c.hash_chain_step());
        m.put(Item.MMU_LOCK, (long) c.mmu_lock());
        m.put(Item.SP_ALLOC, (long) c.sp_alloc());
        m.put(Item.SP_ZAP, (long) c.sp_zap());
        m.put(Item.SP_SYNC, (long) c.sp_sync());
        m.put(Item.SP_UNSYNC, (long) c.sp_unsync());
        m.put(Item.EMULATION, (long) c.emulation());
        m.put(Item.NOTIFIER_CALL, (long) c.notifier_call());
        m.put(Item.FAULT_SELF_CHANGE, (long) c.fault_self_change());
        m.put(Item.HOST_MAPPING_LEVEL, (long) c.host_mapping_level());
        m.put(Item.GFN_TO_PFN, (long) c.gfn_to_pfn());
        m.put(Item.FAULT_LOCK_CHECKS, (long) c.fault_lock_checks());
        m.put(Item.TLB_FLUSH_LOCAL, (long) c.tlb_flush_local());
        m.put(Item.TLB_FLUSH_REQUEST, (long) c.tlb_flush_request());
        m.put(Item.IPI_WAIT, (long) c.ipi_wait());
        return new CostModel(c.clock_mhz(), m);
    }

    /** Configuration Admin's and FileInstall's own keys, which a cost configuration may carry. */
    private static boolean frameworkKey(String k) {
        return k.startsWith("service.") || k.startsWith("component.") || k.startsWith("felix.") || k.startsWith("osgi.")
                || k.startsWith(".");
    }

    /**
     * Checks a configuration's raw properties before they are used: every key must be a figure's
     * (or the framework's own), every figure a whole number of 0 or more ({@code clock.mhz} 1 or
     * more). Throws a one-line {@link org.shadowbox.vm.VmException} naming the first bad key and
     * what is accepted; returns quietly otherwise.
     */
    public static void validate(Map<String, ?> props) {
        Map<String, Long> known = defaults().asMap();
        for (Map.Entry<String, ?> e : new java.util.TreeMap<String, Object>(props).entrySet()) {
            String k = e.getKey();
            if (frameworkKey(k)) {
                continue;
            }
            if (!known.containsKey(k)) {
                throw new VmException("configuration " + PID + ": unknown key '" + k + "'; accepted "
                        + String.join(", ", known.keySet()));
            }
            long v;
            try {
                v = Long.parseLong(String.valueOf(e.getValue()).trim());
            } catch (NumberFormatException x) {
                v = -1;
            }
            long min = k.equals("clock.mhz") ? 1 : 0;
            if (v < min) {
                throw new VmException("configuration " + PID + ": bad " + k + " '" + e.getValue() + "': accepted a whole number of "
                        + min + " or more" + (min == 1 ? " (MHz)" : " cycles"));
            }
        }
    }

    /** The defaults of {@link CostConfig}. */
    public static CostModel defaults() {
        return of(Defaults.CONFIG);
    }

    /** Cycles per event of {@code item}. */
    public long cycles(Item item) {
        return cycles.get(item);
    }

    /** Simulated seconds of {@code cycles} at {@link #clockMhz}. */
    public double seconds(long cycles) {
        return cycles / (clockMhz * 1e6);
    }

    /** Every figure by its configuration key, {@code clock.mhz} first. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("clock.mhz", (long) clockMhz);
        for (Item i : Item.values()) {
            m.put(i.key, cycles.get(i));
        }
        return m;
    }

    /** A {@link CostConfig} with every default, for plain Java use. */
    private static final class Defaults {
        static final CostConfig CONFIG = (CostConfig) java.lang.reflect.Proxy.newProxyInstance(
                CostConfig.class.getClassLoader(), new Class<?>[] {CostConfig.class},
                (proxy, method, args) -> method.getDefaultValue() != null ? method.getDefaultValue()
                        : method.getName().equals("annotationType") ? CostConfig.class : null);
    }
}
