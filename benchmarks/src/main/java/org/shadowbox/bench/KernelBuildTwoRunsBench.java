package org.shadowbox.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Two independent {@code kernel-build} runs at once, each as {@link KernelBuildBench} with one
 * host thread, one per benchmark thread (so one per core of a 2-core host), each with its own
 * hypervisor: how far two cores go when nothing is shared, the ceiling for one SMP run on two
 * threads ({@code KernelBuildBench} with {@code threads} 2). Forks, warm-up and measurement as
 * {@link KernelBuildBench}'s, for the same reason (the spread from one JVM to the next).
 *
 * <p>Its score is runs per second, and nothing else: a run on one thread is deterministic (every
 * run here does the same {@code kernel-build} accesses, checked on every run), so its guest
 * accesses per second are its runs per second times {@code KernelBuildBench}'s accesses per
 * one-thread run, which is how {@code bench/issue15.sh} computes them. It had JMH's auxiliary
 * counter, as {@code KernelBuildBench} has, and that over-counted here by 15 to 20%: with
 * {@code @Threads(2)} JMH keeps every thread running the benchmark while the other is still
 * starting or already stopping (the synchronised iterations), and a state's counter also counts
 * those runs, which the measured time leaves out; at half a second a run, one or two runs an
 * iteration. With one thread there is no such ramp, so {@code KernelBuildBench}'s counter is exact.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 5, jvmArgsAppend = {"-Xmx2g"})
public class KernelBuildTwoRunsBench {
    /** The VMs' MMU, as {@link KernelBuildBench#mmu}. */
    @Param({"shadow"})
    public String mmu;

    private MmuSandbox sandbox;
    private int n;
    /** The first run's accesses: every later run of this thread must do exactly as many. */
    private long first = -1;

    @Setup
    public void setup() {
        sandbox = new MmuSandbox(0);
    }

    @TearDown
    public void tearDown() {
        sandbox.hypervisor.vms().forEach(v -> sandbox.hypervisor.destroyVm(v.name()));
    }

    @Benchmark
    @Threads(2)
    public long twoRunsOnTwoThreads() {
        long accesses = KernelBuildBench.run(sandbox, "kb" + n++, 4, 1, mmu);
        if (first < 0) {
            first = accesses;
        } else if (accesses != first) {
            throw new IllegalStateException("a one-thread kernel-build run did " + accesses + " accesses, the first "
                    + first + ": runs differ, so runs/s times accesses per run is not this benchmark's accesses/s");
        }
        return accesses;
    }
}
