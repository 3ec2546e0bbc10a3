package org.shadowbox.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
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
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 5, jvmArgsAppend = {"-Xmx2g"})
public class KernelBuildTwoRunsBench {
    private MmuSandbox sandbox;
    private int n;

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
    public long twoRunsOnTwoThreads(KernelBuildBench.Accesses a) {
        long accesses = KernelBuildBench.run(sandbox, "kb" + n++, 4, 1);
        a.accesses += accesses;
        return accesses;
    }
}
