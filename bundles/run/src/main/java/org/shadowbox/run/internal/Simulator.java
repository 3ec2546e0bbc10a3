package org.shadowbox.run.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.meter.MmuMeter;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * Runs scenarios on VMs through the MMU service and charges them: the guest runs on the
 * {@link Mmu}'s vCPUs, the {@link MmuMeter} says what work each vCPU's exits caused in each
 * guest mode, the {@link CostModel} turns that into simulated time. Counters are read before
 * and after, so a run on a VM that already did work is charged only its own.
 */
public final class Simulator {
    /**
     * vCPUs of each VM {@code run:compare} creates by default: the seed's build kept about 16 busy
     * ((user + sys) / real = 14.1 in its cover letter).
     */
    public static final int COMPARE_VCPUS = 16;
    /** Memory of each VM {@code run:compare} creates by default (a PC layout, as {@code vm:create}): 8 GiB, a plausible build VM of 16 vCPUs. */
    public static final long COMPARE_MEMORY = 8L << 30;
    /** {@code run:compare}'s default scale: this many times the scenario's own (make -j32 needs more than 65 units). */
    public static final long COMPARE_SCALE_FACTOR = 4;
    /** {@code run:compare}'s default warm-up: a quarter of the scenario's units, uncharged. */
    public static final long COMPARE_WARMUP = -1; // WARMUP_QUARTER
    /** The seed when none is given: runs are reproducible by default. */
    public static final long DEFAULT_SEED = 1;
    /** The warm-up that is a quarter of the scenario's units, whatever they are at the scale run. */
    public static final long WARMUP_QUARTER = -1;
    /** Warm-up units accepted ({@code --warmup}). */
    public static final long MIN_WARMUP = 0, MAX_WARMUP = 1_000_000;
    /** Guest memory accepted for the compared VMs ({@code --memory}): 16 MiB to 64 GiB. */
    public static final long MIN_MEMORY = 16L << 20, MAX_MEMORY = 64L << 30;

    private final Hypervisor hypervisor;
    private final Mmu mmu;
    private final MmuMeter meter;
    private final ScenarioRunner runner;
    private final PageTrack pageTrack;

    public Simulator(Hypervisor hypervisor, Mmu mmu, MmuMeter meter, ScenarioRunner runner, PageTrack pageTrack) {
        this.hypervisor = hypervisor;
        this.mmu = mmu;
        this.meter = meter;
        this.runner = runner;
        this.pageTrack = pageTrack;
    }

    public ScenarioRunner runner() {
        return runner;
    }

    /** The scale to run: {@code scale} if given (above 0), else the scenario's default. */
    public long scaleOf(String scenario, long scale) {
        return scale > 0 ? scale : runner.scenario(scenario).defaultScale();
    }

    /**
     * Runs {@code scenario} on {@code vm}'s vCPUs through the MMU, on one host thread, and charges it.
     *
     * @param scale 0 for the scenario's default
     */
    public RunReport run(Vm vm, String scenario, long scale, long seed, CostModel model,
            ScenarioRunner.Progress progress) {
        return run(vm, scenario, scale, seed, 1, model, progress);
    }

    /**
     * Runs {@code scenario} on {@code vm}'s vCPUs through the MMU, driven by {@code threads} host
     * threads (1 to the VM's vCPUs; see {@link ScenarioRunner#run(String, Vm, java.util.function.IntFunction,
     * long, long, int, ScenarioRunner.Progress)}), and charges it. The meter's per-vCPU work is
     * read after every thread is done. With several threads, work the MMU does VM-wide (shadow
     * pages, zaps, hash chain steps, remote flushes) while two vCPUs' exits overlap is charged to
     * both (the meter's windows are per vCPU; see the MMU's {@code ExitMeter}): sys is then an
     * upper bound.
     *
     * @param scale 0 for the scenario's default
     */
    public RunReport run(Vm vm, String scenario, long scale, long seed, int threads, CostModel model,
            ScenarioRunner.Progress progress) {
        return run(vm, scenario, scale, seed, threads, 0, model, progress);
    }

    /**
     * {@link #run(Vm, String, long, long, int, CostModel, ScenarioRunner.Progress)} after a
     * warm-up: the scenario's first {@code warmup} units (processes done) run first and are not
     * charged; the charged window opens at the first progress report with at least that many
     * done. A warm-up not below the scenario's units at this scale fails in one line once the
     * scenario has said how many it has (after the guest's boot, before any unit is charged).
     *
     * @param warmup {@value #MIN_WARMUP} to {@value #MAX_WARMUP} units, or {@link #WARMUP_QUARTER}
     */
    public RunReport run(Vm vm, String scenario, long scale, long seed, int threads, long warmup, CostModel model,
            ScenarioRunner.Progress progress) {
        checkWarmup(warmup);
        long s = scaleOf(scenario, scale);
        mmu.cpu(vm, 0); // one line if the MMU does not serve the VM
        int notifiers = pageTrack.notifiers(vm).size();
        Workload w = new Workload(vm, progress, warmup, scenario, s);
        w.start(0); // replaced when the scenario reports its start, after the guest's boot
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean cpuClock = threads == 1 && mx.isCurrentThreadCpuTimeSupported();
        long cpu0 = cpuClock ? mx.getCurrentThreadCpuTime() : 0; // measures the run; never decides anything in it
        ScenarioResult r = runner.run(scenario, vm, i -> mmu.cpu(vm, i), s, seed, threads, w);
        long cpuNanos = cpuClock ? mx.getCurrentThreadCpuTime() - cpu0 : -1;
        if (w.endWork == null) {
            w.end(r.counts().accesses()); // no end reported: the runner's verification reads are charged too
        }
        List<Map<String, Long>[]> work = w.endWork;
        for (int v = 0; v < work.size(); v++) {
            for (int mode = 0; mode < 2; mode++) {
                work.get(v)[mode] = minus(work.get(v)[mode], w.startWork.get(v)[mode]);
            }
        }
        SimTime time = SimTime.charge(model, work, notifiers);
        return new RunReport(scenario, vm.name(), vm.spec().option(VmSpec.MMU), vm.spec().option(VmSpec.POLICY),
                r.paging(), vm.vcpuCount(), threads, memory(vm), s, seed, time, minus(w.endStats, w.startStats), r.counts(),
                r.checksum(), r.hostNanos(), cpuNanos, model, notifiers, w.endAccesses - w.startAccesses, w.warmup);
    }

    /**
     * The workload's window: the counters when the scenario reports its start (after the guest's
     * boot) and when it reports its last unit done (before the runner verifies the guest's
     * memory). Boot and verification are the runner's work, not the workload's: not charged.
     */
    private final class Workload implements ScenarioRunner.Progress {
        private final Vm vm;
        private final ScenarioRunner.Progress next;
        /** The warm-up in units; {@link #WARMUP_QUARTER} until the scenario says how many units it has. */
        private long warmup;
        private final String scenario;
        private final long scale;
        private boolean started;
        List<Map<String, Long>[]> startWork;
        List<Map<String, Long>[]> endWork;
        Map<String, Long> startStats;
        Map<String, Long> endStats;
        long startAccesses;
        long endAccesses;

        Workload(Vm vm, ScenarioRunner.Progress next, long warmup, String scenario, long scale) {
            this.vm = vm;
            this.next = next;
            this.warmup = warmup;
            this.scenario = scenario;
            this.scale = scale;
        }

        @Override
        public void progress(long done, long total, long accesses) {
            if (warmup == WARMUP_QUARTER) {
                warmup = total / 4;
            }
            if (warmup > 0 && warmup >= total) {
                throw new VmException("bad --warmup " + warmup + ": " + scenario + " at scale " + scale + " has " + total
                        + " units; accepted 0 to " + (total - 1) + " (or a larger --scale)");
            }
            if (!started && done >= warmup) {
                started = true;
                start(accesses);
            }
            if (done >= total && total > 0) {
                end(accesses);
            }
            if (next != null) {
                next.progress(done, total, accesses);
            }
        }

        void start(long accesses) {
            startWork = work(vm);
            startStats = stats(vm);
            startAccesses = accesses;
        }

        void end(long accesses) {
            endWork = work(vm);
            endStats = stats(vm);
            endAccesses = accesses;
        }
    }

    /**
     * The seed's experiment: two fresh VMs of {@link #COMPARE_VCPUS} vCPUs and
     * {@link #COMPARE_MEMORY} bytes, {@code mmu=mmuKind}, one with {@code policy=legacy} and one
     * with {@code policy=pagetrack}, run the same scenario, scale and seed at the same time in
     * this process, each on its own host thread(s) ({@link PairRun}: the two VMs share nothing a
     * run changes, so each run's counts are what it would give alone); the VMs are destroyed
     * afterwards. Under {@code mmu=tdp} the legacy VM runs
     * KVM's TDP fault path from before the series, which never asks page track, so the
     * difference is the series' page-track lookups on each TDP violation.
     *
     * @param progress told of the pair ("legacy + pagetrack") and its progress, both runs together, or null
     */
    public Comparison compare(String scenario, long scale, long seed, String mmuKind, CostModel model,
            ProgressSink progress) {
        return compare(scenario, scale, seed, mmuKind, 1, model, progress);
    }

    /**
     * {@link #compare(String, long, long, String, CostModel, ProgressSink)} with each VM's vCPUs
     * driven by {@code threads} host threads (1 to {@link #COMPARE_VCPUS}). With more than one the
     * guest-visible results of the two runs are not expected to be equal
     * ({@link Comparison#comparable()}).
     */
    public Comparison compare(String scenario, long scale, long seed, String mmuKind, int threads, CostModel model,
            ProgressSink progress) {
        return compare(scenario, scale, seed, mmuKind, threads, COMPARE_VCPUS, COMPARE_MEMORY, 0, model, progress);
    }

    /** The warm-up's one-line refusal, before anything runs. */
    static void checkWarmup(long warmup) {
        if (warmup == WARMUP_QUARTER) {
            return;
        }
        if (warmup < MIN_WARMUP || warmup > MAX_WARMUP) {
            throw new VmException("bad --warmup " + warmup + ": accepted " + MIN_WARMUP + " to " + MAX_WARMUP
                    + " units (processes done before the charged window opens)");
        }
    }

    /** The size's one-line refusals, before anything runs. */
    static void checkSize(int vcpus, long memoryBytes) {
        if (vcpus < 1 || vcpus > VmSpec.MAX_VCPUS) {
            throw new VmException("bad --vcpus " + vcpus + ": accepted 1 to " + VmSpec.MAX_VCPUS);
        }
        if (memoryBytes < MIN_MEMORY || memoryBytes > MAX_MEMORY || (memoryBytes & 0xfff) != 0) {
            throw new VmException("bad --memory " + memoryBytes + " bytes: accepted 16M to 64G, a multiple of 4 KiB");
        }
    }

    /**
     * The seed's experiment on VMs of {@code vcpus} vCPUs and {@code memoryBytes}, each run after
     * {@code warmup} uncharged units ({@link #run(Vm, String, long, long, int, long, CostModel,
     * ScenarioRunner.Progress)}). Bad sizes are refused in one line before any VM is made.
     */
    public Comparison compare(String scenario, long scale, long seed, String mmuKind, int threads, int vcpus,
            long memoryBytes, long warmup, CostModel model, ProgressSink progress) {
        checkSize(vcpus, memoryBytes);
        checkWarmup(warmup);
        if (threads < 1 || threads > vcpus) {
            throw new VmException("bad threads " + threads + ": accepted 1 to " + vcpus + " (the compared VMs' vCPUs)");
        }
        if (!VmSpec.MMU_SHADOW.equals(mmuKind) && !VmSpec.MMU_TDP.equals(mmuKind)) {
            throw new VmException("bad --mmu '" + mmuKind + "': accepted shadow or tdp");
        }
        long s = scaleOf(scenario, scale);
        checkFits(scenario, s, vcpus, memoryBytes, mmuKind);
        return new PairRun(this, scenario, s, seed, mmuKind, threads, vcpus, memoryBytes, warmup, model, progress).run();
    }

    /**
     * Refuses, before any VM is made, a comparison whose two runs (at once) could take more host
     * memory than the sandbox's budget leaves ({@link ScenarioRunner#hostBytesAtMost}), in the
     * sandbox budget's words. Each new VM's own budget ('vm' in the budget configuration) is not
     * known here: a run that meets it fails in its one line, its VM removed.
     */
    public void checkFits(String scenario, long scale, int vcpus, long memoryBytes, String mmuKind) {
        long one = runner.hostBytesAtMost(scenario, scaleOf(scenario, scale), vcpus, memoryBytes, mmuKind);
        if (one < 0) {
            return;
        }
        org.shadowbox.vm.MemoryBudget b = hypervisor.memoryBudget();
        long room = Math.max(0, b.sandboxLimitBytes() - b.sandboxUsedBytes());
        if (2 * one > room) {
            throw new VmException("a comparison of " + scenario + " at scale " + scaleOf(scenario, scale) + " needs up to "
                    + human(2 * one) + " of host memory (two VMs of " + human(memoryBytes) + " at once, " + human(one)
                    + " each: guest pages, the guest model's bookkeeping, MMU metadata), past the sandbox memory budget:"
                    + " all VMs hold " + human(b.sandboxUsedBytes()) + " of " + human(b.sandboxLimitBytes()) + ", room "
                    + human(room) + "; raise 'sandbox' in workspace/config/org.shadowbox.budget.cfg (and -Xmx in"
                    + " JAVA_OPTS), destroy a VM, or use a smaller --memory or --scale; nothing was run");
        }
    }

    private static String human(long bytes) {
        return org.shadowbox.vm.MemoryBudget.human(bytes);
    }

    /** The calibration run's scale for a comparison at {@code scale}: a quarter, at least 1. */
    static long calibrationScale(long scale) {
        return Math.max(1, (scale + 3) / 4);
    }

    /**
     * The prediction of {@link #compare(String, long, long, String, int, int, long, long, CostModel,
     * ProgressSink)} with the same arguments, made before it from a calibration comparison at a
     * quarter of the scale and of the warm-up ({@link Prediction}).
     */
    public Prediction predict(String scenario, long scale, long seed, String mmuKind, int threads, int vcpus,
            long memoryBytes, long warmup, CostModel model, ProgressSink progress) {
        long s = scaleOf(scenario, scale);
        Comparison cal = compare(scenario, calibrationScale(s), seed, mmuKind, threads, vcpus, memoryBytes,
                warmup == WARMUP_QUARTER ? WARMUP_QUARTER : warmup / 4,
                model, progress == null ? null : new ProgressSink() {
                    @Override
                    public ScenarioRunner.Progress start(String label) {
                        return progress.start("calibration " + label);
                    }

                    @Override
                    public void done() {
                        progress.done();
                    }
                });
        return Prediction.of(cal, model);
    }

    /** A fresh VM for one run of a comparison: {@code run-POLICY} (or the next free name). */
    Vm createCompareVm(String policy, String mmuKind, int vcpus, long memoryBytes) {
        String name = freeName("run-" + policy);
        return hypervisor.createVm(VmSpec.pc(name, memoryBytes, vcpus).with(VmSpec.MMU, mmuKind).with(VmSpec.POLICY, policy));
    }

    void destroyVm(Vm vm) {
        hypervisor.destroyVm(vm.name());
    }

    private String freeName(String base) {
        String name = base;
        for (int i = 2; hypervisor.vm(name).isPresent(); i++) {
            name = base + "-" + i;
        }
        return name;
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Long>[]> work(Vm vm) {
        List<Map<String, Long>[]> out = new ArrayList<>();
        for (int v = 0; v < vm.vcpuCount(); v++) {
            out.add(new Map[] {meter.work(vm, v, false), meter.work(vm, v, true)});
        }
        return out;
    }

    private Map<String, Long> stats(Vm vm) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Mmu.Stat s : mmu.stats(vm)) {
            m.put(s.name(), s.value());
        }
        return m;
    }

    /** MMU stats that are levels, not counts: a run reports their value at its end, not their change. */
    static final java.util.Set<String> GAUGES = java.util.Set.of("n_used_mmu_pages", "n_used_mmu_pages_peak",
            "n_max_mmu_pages", "mmu_unsync");

    private static Map<String, Long> minus(Map<String, Long> a, Map<String, Long> b) {
        Map<String, Long> out = new LinkedHashMap<>(a);
        Map<String, Long> bb = new HashMap<>(b);
        out.replaceAll((k, v) -> GAUGES.contains(k) ? v : v - bb.getOrDefault(k, 0L));
        return out;
    }

    private static long memory(Vm vm) {
        long pages = 0;
        for (Memslot s : vm.memslots()) {
            pages += s.npages();
        }
        return pages << 12;
    }

    /**
     * Progress of the runs of a comparison: each comparison's two runs are one start, with the
     * progress of both together, heard on the calling thread only.
     */
    public interface ProgressSink {
        /** A run (or a pair of runs) under {@code label} begins; its progress goes to the returned listener. */
        ScenarioRunner.Progress start(String label);

        /** That run is over. */
        void done();
    }
}
