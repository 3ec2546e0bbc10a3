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
 * <p>Warm-up: a run is half a second to a second, and the JIT keeps compiling the MMU's and the
 * guest's paths for the first dozen or so; 6 x 5 s of warm-up then 8 x 5 s of measurement are
 * chosen to keep the error (JMH's 99.9% interval) under 10% of the score on an otherwise quiet
 * 2-core machine, where the former 2 x 3 s and 3 x 6 s gave plus or minus 45% (issue 15;
 * measured errors in docs/benchmarks.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 6, time = 5)
@Measurement(iterations = 8, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class KernelBuildBench {
    @Param({"4"})
    public int vcpus;

    /** Host threads driving one run's vCPUs ({@code run:scenario --threads}). */
    @Param({"1", "2"})
    public int threads;

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
        return run(sandbox, "kb" + n++, vcpus, threads);
    }

    /** One whole run on a fresh VM of {@code vcpus} vCPUs, its vCPUs on {@code threads} host threads; its guest accesses. */
    static long run(MmuSandbox sandbox, String name, int vcpus, int threads) {
        Vm vm = sandbox.hypervisor.createVm(VmSpec.pc(name, 1L << 30, vcpus));
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
