package org.shadowbox.bench;

import java.util.List;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * How fast this host's memory was around each iteration, measured in the benchmark's own JVM and
 * thread: {@code -prof org.shadowbox.bench.HostProbe} adds two secondary results to every
 * benchmark, {@code host.mem} (ns per random 8-byte read of a 16 MiB array, fixed code, fixed
 * work) and {@code host.alu} (ns per step of a chain of dependent multiplies, no memory), each
 * the mean of a probe run just before and one just after the iteration. Opt-in: {@code
 * bench/issue15.sh} does not use it.
 *
 * <p>Why: on this project's machines (Firecracker VMs on shared hosts) a JVM's benchmark speed
 * moves in steps of up to 2 x, within one JVM and from fork to fork. {@link HostPhaseProbe}
 * alternates {@code ShadowFaultBench}'s loop with these probes in one thread, second by second
 * (docs/benchmarks.md, "The host's slow phases"): in one JVM of eight on 2026-12-07 the faults
 * ran at 2.4 to 3.3 M/s for 18 seconds, then at 3.2, 3.4 and 4.8, while the memory probe took
 * 7.8 to 9.5 ns during the slow seconds and 6.9 at the end, and the ALU chain did not move (1.71
 * to 1.81 ns). Fixed
 * code slowing down with the memory, not with the clock, is the machine under the JVM, not the
 * JIT. Not every slow fork shows in this probe, though: it reads its own 16 MiB, not the
 * benchmark's data, and a {@code ShadowFaultBench} fork at 2.7 M/s had the same {@code host.mem}
 * as forks at 4.8. So it tells a slow host when it sees one; a normal value does not prove the
 * host was quiet.
 *
 * <p>Cost: about 60 ms per iteration outside the measured time (the probes run in {@code
 * beforeIteration} and {@code afterIteration}); the 16 MiB array leaves the benchmark's caches
 * cold at the start of each iteration, which its first microseconds refill.
 */
public final class HostProbe implements InternalProfiler {
    private static final int MEM_WORDS = 1 << 21; // 16 MiB
    private static final int MEM_READS = 1 << 21;
    private static final int ALU_STEPS = 1 << 22;

    private static long[] memory;
    private static long seed = 0x9e3779b97f4a7c15L;
    /** Keeps the probes' results alive, so the JIT cannot drop their loops. */
    static volatile long sink;

    private double memBefore;
    private double aluBefore;

    @Override
    public String getDescription() {
        return "the host's memory (ns per random read of 16 MiB) and ALU (ns per dependent multiply) around each iteration";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        if (memory == null) {
            memory = new long[MEM_WORDS];
            for (int i = 0; i < MEM_WORDS; i++) {
                memory[i] = i;
            }
            for (int i = 0; i < 3; i++) { // compiled before the first timed probe
                memNanos();
                aluNanos();
            }
        }
        memBefore = memNanos();
        aluBefore = aluNanos();
    }

    @Override
    public List<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
            IterationResult result) {
        double mem = (memBefore + memNanos()) / 2;
        double alu = (aluBefore + aluNanos()) / 2;
        return List.of(new ScalarResult("host.mem", mem, "ns/read", AggregationPolicy.AVG),
                new ScalarResult("host.alu", alu, "ns/step", AggregationPolicy.AVG));
    }

    /** ns per independent random read of {@link #memory} (xorshift indices). */
    static double memNanos() {
        long[] m = memory;
        long x = seed;
        long s = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < MEM_READS; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            s += m[(int) (x & (MEM_WORDS - 1))];
        }
        long t1 = System.nanoTime();
        seed = x;
        sink += s;
        return (double) (t1 - t0) / MEM_READS;
    }

    /** ns per step of a dependent multiply-xor chain: the core's clock, no memory. */
    static double aluNanos() {
        long a = seed;
        long t0 = System.nanoTime();
        for (int i = 0; i < ALU_STEPS; i++) {
            a = a * 0x5DEECE66DL + 11;
            a ^= a >>> 17;
        }
        long t1 = System.nanoTime();
        sink += a;
        return (double) (t1 - t0) / ALU_STEPS;
    }
}
