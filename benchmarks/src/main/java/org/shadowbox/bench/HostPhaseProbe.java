package org.shadowbox.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Whether a benchmark's slow phases are the code or the host: {@link ShadowFaultBench}'s loop
 * (the fault on an existing shadow page, with its untimed re-shadowing between rounds)
 * alternated, round by round in one thread, with three fixed probes whose code never changes
 * once compiled: random reads of a 256 KiB {@code long[]} (the L2), random reads of a 16 MiB one
 * ({@link #memNanos}: the L3 and memory) and a chain of dependent multiplies ({@link #aluNanos}:
 * the core's clock, no memory). Prints one line a second, with the milliseconds the JIT compiled
 * and the collector paused in it (both run beside the probe, on the other core). If the faults
 * slow down while the fixed probes do not, the JVM's own code or data did it; if the memory
 * probes slow down with them and the ALU chain does not, the memory system under the thread did.
 *
 * <p>On 2026-12-07 (8 JVMs of 22 s, docs/benchmarks.md) the faults ran at 4.57 M/s on average in
 * 91 seconds and at 2.72 in 75, in phases of seconds to tens of seconds that came and went
 * within JVMs; the 16 MiB probe took 5.8 to 8.0 ns in every fast second and 7.4 to 11.4 in the
 * slow ones, the multiply chain 1.79 and 1.82, and the JIT compiled about 10 ms a second in both.
 * Run between JMH's iterations instead (a profiler tried the same day), the probe did not track
 * the score: a probe a second apart from the work does not see the phase, one interleaved with it
 * does.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.HostPhaseProbe [SECONDS]
 * </pre>
 *
 * (docs/benchmarks.md, "The host's slow phases").
 */
public final class HostPhaseProbe {
    private static final int L2_WORDS = 1 << 15; // 256 KiB
    private static final int L2_READS = 200_000;
    private static final int MEM_WORDS = 1 << 21; // 16 MiB
    private static final int MEM_READS = 1 << 21;
    private static final int ALU_STEPS = 1 << 22;
    private static final long[] l2 = new long[L2_WORDS];
    private static final long[] memory = new long[MEM_WORDS];
    private static long seed = 0x9e3779b97f4a7c15L;
    /** Keeps the probes' results alive, so the JIT cannot drop their loops. */
    static volatile long sink;

    private HostPhaseProbe() {
    }

    public static void main(String[] args) throws Exception {
        int seconds;
        try {
            seconds = args.length == 0 ? 30 : Integer.parseInt(args[0]);
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (seconds < 1 || args.length > 1) {
            System.err.println("usage: HostPhaseProbe [SECONDS]: seconds to run, a whole number from 1 (default 30)");
            System.exit(2);
        }
        for (int i = 0; i < MEM_WORDS; i++) {
            memory[i] = i;
        }
        for (int i = 0; i < 3; i++) { // compiled before the first line
            sink += l2Reads();
            memNanos();
            aluNanos();
        }
        ShadowFaultBench bench = new ShadowFaultBench();
        bench.setup();
        int faultsPerRound = 64 * 511; // ShadowFaultBench's @OperationsPerInvocation
        System.out.printf(Locale.ROOT, "%3s %14s %12s %12s %12s %8s %8s%n", "s", "faults M/s", "L2 ns/read", "mem ns/read",
                "ALU ns/step", "JIT ms", "GC ms");
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long jitMs = jit.getTotalCompilationTime();
        long gcMs = gcMillis();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long second = System.nanoTime() + 1_000_000_000L;
        long faultNs = 0, faults = 0, l2Ns = 0, rounds = 0;
        double mem = 0, alu = 0;
        int s = 0;
        while (System.nanoTime() < end) {
            bench.reshadow();
            long t0 = System.nanoTime();
            sink += bench.faultOnExistingShadowPage();
            long t1 = System.nanoTime();
            sink += l2Reads();
            long t2 = System.nanoTime();
            faultNs += t1 - t0;
            faults += faultsPerRound;
            l2Ns += t2 - t1;
            mem += memNanos();
            alu += aluNanos();
            rounds++;
            if (t2 > second || System.nanoTime() >= end) {
                long jitNow = jit.getTotalCompilationTime();
                long gcNow = gcMillis();
                System.out.printf(Locale.ROOT, "%3d %14.2f %12.2f %12.2f %12.2f %8d %8d%n", ++s, faults * 1e3 / faultNs,
                        (double) l2Ns / (rounds * L2_READS), mem / rounds, alu / rounds, jitNow - jitMs, gcNow - gcMs);
                jitMs = jitNow;
                gcMs = gcNow;
                faultNs = faults = l2Ns = rounds = 0;
                mem = alu = 0;
                second = System.nanoTime() + 1_000_000_000L;
            }
        }
    }

    private static long gcMillis() {
        long ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    /** {@link #L2_READS} independent random reads of the 256 KiB array. */
    private static long l2Reads() {
        long[] m = l2;
        long x = seed;
        long sum = 0;
        for (int i = 0; i < L2_READS; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sum += m[(int) (x & (L2_WORDS - 1))];
        }
        seed = x;
        return sum;
    }

    /** ns per independent random read of {@link #memory}, 16 MiB (xorshift indices). */
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
