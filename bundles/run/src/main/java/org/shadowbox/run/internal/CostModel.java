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
        GUEST_ACCESS("guest.access", "guest instructions (per memory access)"),
        VM_EXIT("vm.exit", "VM exits and entries"),
        GUEST_WALK_STEP("guest.walk.step", "guest page-table walk steps (software)"),
        SHADOW_WALK_STEP("shadow.walk.step", "shadow page-table walk steps (software)"),
        TLB_WALK_STEP("tlb.walk.step", "TLB refill walk steps (hardware)"),
        HASH_CHAIN_STEP("hash.chain.step", "shadow-page hash chain steps"),
        MMU_LOCK("mmu.lock", "MMU lock acquisitions"),
        SP_ALLOC("sp.alloc", "shadow pages allocated"),
        SP_ZAP("sp.zap", "shadow pages zapped"),
        SP_SYNC("sp.sync", "shadow pages resynced"),
        SP_UNSYNC("sp.unsync", "shadow pages marked unsync"),
        EMULATION("emulation", "instructions emulated"),
        NOTIFIER_CALL("notifier.call", "page-track notifier calls"),
        TLB_FLUSH_LOCAL("tlb.flush.local", "local TLB flushes"),
        TLB_FLUSH_REMOTE_TARGET("tlb.flush.remote.target", "remote TLB flush targets");

        /** The configuration key (PID {@value CostModel#PID}). */
        public final String key;
        public final String label;

        Item(String key, String label) {
            this.key = key;
            this.label = label;
        }

        /**
         * How many times this work was done, from one vCPU's work in one guest mode
         * ({@link MmuMeter#work}); a counter the MMU does not report counts 0.
         *
         * @param vcpus     the VM's vCPUs (a remote flush targets every other one)
         * @param notifiers page-track notifiers attached to the VM (each hears every emulated write)
         */
        public long count(Map<String, Long> w, int vcpus, int notifiers) {
            return switch (this) {
                case GUEST_ACCESS -> get(w, MmuMeter.ACCESSES);
                case VM_EXIT -> get(w, "exits");
                case GUEST_WALK_STEP -> get(w, "guest_walk_steps");
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
                case TLB_FLUSH_LOCAL -> get(w, "tlb_flush");
                case TLB_FLUSH_REMOTE_TARGET -> get(w, "remote_tlb_flush") * Math.max(0, vcpus - 1);
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
        m.put(Item.TLB_FLUSH_LOCAL, (long) c.tlb_flush_local());
        m.put(Item.TLB_FLUSH_REMOTE_TARGET, (long) c.tlb_flush_remote_target());
        return new CostModel(c.clock_mhz(), m);
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
