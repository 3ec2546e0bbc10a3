package org.shadowbox.bench;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

/**
 * Kernel-build's two-thread scaling measured round by round in one JVM: each operation is one
 * round of the three runs issue 15's SMP targets compare, back to back, their order rotating
 * from round to round:
 * <ul>
 * <li>{@code one}: one run on one host thread ({@link KernelBuildBench} with {@code threads} 1);
 * <li>{@code smp}: one SMP run, its vCPUs on two host threads ({@code threads} 2);
 * <li>{@code two}: two independent one-thread runs at once, one on the benchmark's thread and
 *     one on a helper thread, each with its own hypervisor ({@link KernelBuildTwoRunsBench}'s
 *     ceiling).
 * </ul>
 * Why: this host runs each core in slow and fast phases of tens of seconds (docs/benchmarks.md,
 * "The host's slow phases"), longer than a run and shorter than a JMH fork. Separate benchmarks
 * put each side of a ratio in different phases, so a one-thread fork spreads 30 to 60% and the
 * ratios' intervals hold their targets; here the three arms of a round see nearly the same host,
 * and the rotation spreads what is left (the order, the collector's state) over all three.
 *
 * <p>The auxiliary counters ({@link Arms}, events: totals per iteration) are each arm's guest
 * accesses and nanoseconds; {@code bench/issue15.sh} sums them per fork and gives each ratio of
 * rates an interval over the forks. A full collection runs before each arm, outside its time, so
 * that no arm pays for the garbage of the one before. The {@code two} arm's rate is the sum of
 * its two runs' own rates (each run's accesses over its own time), as {@link
 * KernelBuildTwoRunsBench}, whose threads never idle, measures it: the wall time until both are
 * done would charge it the faster run's idle tail. The run that ends first leaves the other
 * alone on the host for that tail, which can only raise the ceiling, so the SMP run's share of
 * it errs low, never high. Every one-thread run must do exactly the accesses of the first: a run
 * on one thread is deterministic.
 *
 * <p>The primary score (seconds per round, collections included) is not a figure of merit.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 10)
@Measurement(iterations = 4, time = 10)
@Fork(value = 4, jvmArgsAppend = {"-Xmx3g"})
public class KernelBuildRoundsBench {
    /** vCPUs of each run's VM, as {@link KernelBuildBench#vcpus}. */
    @Param({"4"})
    public int vcpus;

    /** Each run's MMU, as {@link KernelBuildBench#mmu}: {@code -p mmu=tdp} for the control without {@code mmu_lock}. */
    @Param({"shadow"})
    public String mmu;

    /**
     * Whether a full collection runs before each arm, outside its time ({@code -p collect=false}
     * to see what that does; one fork each at 23:20 UTC on 2026-12-07: 1.57 and 0.81 without,
     * 1.50 and 0.83 with, within this host's spread).
     */
    @Param({"true"})
    public boolean collect;

    private MmuSandbox sandbox;
    private MmuSandbox helperSandbox;
    private ExecutorService helper;
    private int round;
    private int n;
    /** A one-thread run's accesses: every one-thread run must do exactly as many. */
    private long oneThreadAccesses = -1;

    /** Each arm's guest accesses and host nanoseconds, summed over the iteration's rounds. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Arms {
        public long oneAccesses;
        public long oneNanos;
        public long smpAccesses;
        public long smpNanos;
        /** Both runs' accesses. */
        public long twoAccesses;
        /** The time at which both runs' summed rate does {@link #twoAccesses}: 2 t1 t2 / (t1 + t2). */
        public long twoNanos;

        @Setup(Level.Iteration)
        public void clear() {
            oneAccesses = oneNanos = smpAccesses = smpNanos = twoAccesses = twoNanos = 0;
        }
    }

    @Setup
    public void setup() {
        sandbox = new MmuSandbox(0);
        helperSandbox = new MmuSandbox(0);
        helper = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "rounds-helper");
            t.setDaemon(true);
            return t;
        });
    }

    @TearDown
    public void tearDown() {
        helper.shutdownNow();
        sandbox.hypervisor.vms().forEach(v -> sandbox.hypervisor.destroyVm(v.name()));
        helperSandbox.hypervisor.vms().forEach(v -> helperSandbox.hypervisor.destroyVm(v.name()));
    }

    /** One round: the three arms, in the order {@code round % 3} gives. */
    @Benchmark
    public long round(Arms arms) throws InterruptedException, ExecutionException {
        long accesses = 0;
        int first = round++ % 3;
        for (int k = 0; k < 3; k++) {
            if (collect) {
                System.gc();
            }
            switch ((first + k) % 3) {
                case 0 -> {
                    long t0 = System.nanoTime();
                    long a = checked(KernelBuildBench.run(sandbox, "one" + n++, vcpus, 1, mmu));
                    arms.oneNanos += System.nanoTime() - t0;
                    arms.oneAccesses += a;
                    accesses += a;
                }
                case 1 -> {
                    long t0 = System.nanoTime();
                    long a = KernelBuildBench.run(sandbox, "smp" + n++, vcpus, 2, mmu);
                    arms.smpNanos += System.nanoTime() - t0;
                    arms.smpAccesses += a;
                    accesses += a;
                }
                default -> {
                    String other = "two" + n++;
                    Future<long[]> f = helper.submit(() -> timedOneThreadRun(helperSandbox, other));
                    long[] mine = timedOneThreadRun(sandbox, "two" + n++);
                    long[] theirs = f.get();
                    long t1 = mine[1], t2 = theirs[1];
                    arms.twoAccesses += checked(mine[0]) + checked(theirs[0]);
                    arms.twoNanos += (long) (2.0 * t1 * t2 / (t1 + t2));
                    accesses += mine[0] + theirs[0];
                }
            }
        }
        return accesses;
    }

    /** A one-thread run's accesses and its own time. */
    private long[] timedOneThreadRun(MmuSandbox box, String name) {
        long t0 = System.nanoTime();
        long a = KernelBuildBench.run(box, name, vcpus, 1, mmu);
        return new long[] {a, System.nanoTime() - t0};
    }

    private synchronized long checked(long accesses) {
        if (oneThreadAccesses < 0) {
            oneThreadAccesses = accesses;
        } else if (accesses != oneThreadAccesses) {
            throw new IllegalStateException("a one-thread kernel-build run did " + accesses + " accesses, the first "
                    + oneThreadAccesses + ": one-thread runs are deterministic, so the arms no longer do the same work");
        }
        return accesses;
    }
}
