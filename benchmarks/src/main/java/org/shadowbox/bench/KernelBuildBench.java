package org.shadowbox.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.shadowbox.run.internal.CostModel;
import org.shadowbox.run.internal.RunReport;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * {@code kernel-build} at its default scale, end to end, as {@code run:scenario} runs it: a
 * fresh 1 GiB VM of {@code vcpus} vCPUs with the shadow MMU and page tracking, the guest's boot,
 * the workload, the verification of the guest's memory, the cost model. One operation is one
 * whole run; {@code accesses} (a secondary result) is simulated guest memory accesses per host
 * second. {@code threads} is the run's {@code --threads}: 1 drives all the vCPUs from one host
 * thread (the deterministic interleaving), 2 puts them on two host threads (vCPU v on thread
 * v % 2: an SMP guest, one run using both cores). {@link KernelBuildTwoRunsBench} instead runs
 * two independent one-thread simulations at once, one per core: the ceiling for two cores, with
 * nothing shared.
 *
 * <p>Forks and warm-up: a run is half a second to a second, and the JIT keeps compiling the
 * MMU's and the guest's paths for the first dozen or so. One JVM's steady state differs from the
 * next one's by more than the error within a JVM (the JIT's decisions differ from fork to fork:
 * measured in docs/benchmarks.md, "Forks"), so one fork's error says nothing about the next
 * fork's score: 5 forks of 4 x 5 s warm-up and 3 x 5 s measurement, so that the fork-to-fork
 * spread is in JMH's error, and {@code bench/issue15.sh} gives each ratio an interval from the
 * per-fork scores. (It was 1 fork of 6 x 5 s and 8 x 5 s, whose error hid that spread.)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 5, jvmArgsAppend = {"-Xmx2g"})
public class KernelBuildBench {
    @Param({"4"})
    public int vcpus;

    /** Host threads driving one run's vCPUs ({@code run:scenario --threads}). */
    @Param({"1", "2"})
    public int threads;

    /**
     * The VM's MMU ({@code VmSpec.MMU}): {@code shadow}, the issue's, or {@code tdp} ({@code -p
     * mmu=tdp}), to see how much of a figure is the shadow MMU's.
     */
    @Param({"shadow"})
    public String mmu;

    private MmuSandbox sandbox;
    private int n;

    /** Guest accesses simulated, per second of the measurement. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Accesses {
        public long accesses;

        @Setup(Level.Iteration)
        public void clear() {
            accesses = 0;
        }
    }

    @Setup
    public void setup() {
        sandbox = new MmuSandbox(0);
    }

    @TearDown
    public void tearDown() {
        sandbox.hypervisor.vms().forEach(v -> sandbox.hypervisor.destroyVm(v.name()));
    }

    private long run() {
        return run(sandbox, "kb" + n++, vcpus, threads, mmu);
    }

    /** One whole run on a fresh VM of {@code vcpus} vCPUs, its vCPUs on {@code threads} host threads; its guest accesses. */
    static long run(MmuSandbox sandbox, String name, int vcpus, int threads) {
        return run(sandbox, name, vcpus, threads, "shadow");
    }

    /** {@link #run(MmuSandbox, String, int, int)} with the VM's MMU, {@code shadow} or {@code tdp}. */
    static long run(MmuSandbox sandbox, String name, int vcpus, int threads, String mmu) {
        Vm vm = sandbox.hypervisor.createVm(VmSpec.pc(name, 1L << 30, vcpus).with(VmSpec.MMU, mmu));
        try {
            RunReport r = sandbox.simulator.run(vm, "kernel-build", 0, 1, threads, CostModel.defaults(), null);
            return r.counts().accesses();
        } finally {
            sandbox.hypervisor.destroyVm(name);
        }
    }

    /** One run, its vCPUs on {@code threads} host threads. */
    @Benchmark
    public long oneRun(Accesses a) {
        long n = run();
        a.accesses += n;
        return n;
    }
}
