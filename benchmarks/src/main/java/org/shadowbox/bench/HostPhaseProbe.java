package org.shadowbox.bench;

import java.util.Locale;

/**
 * Whether a benchmark's slow phases are the code or the host: {@link ShadowFaultBench}'s loop
 * (the fault on an existing shadow page, with its untimed re-shadowing between rounds)
 * alternated, round by round in one thread, with three fixed probes whose code never changes
 * once compiled: random reads of a 256 KiB {@code long[]} (the L2), random reads of a 16 MiB one
 * ({@link HostProbe#memNanos}: the L3 and memory) and a chain of dependent multiplies ({@link
 * HostProbe#aluNanos}: the core's clock, no memory). Prints one line a second. If the faults
 * slow down while the fixed probes do not, the JVM's own code or data did it; if the memory
 * probes slow down with them and the ALU chain does not, the host's caches and memory did.
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
    private static long[] l2 = new long[L2_WORDS];
    private static long seed = 0x9e3779b97f4a7c15L;
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
        HostProbe probe = new HostProbe();
        probe.beforeIteration(null, null); // allocates and compiles its probes
        ShadowFaultBench bench = new ShadowFaultBench();
        bench.setup();
        int faultsPerRound = 64 * 511; // ShadowFaultBench's @OperationsPerInvocation
        System.out.printf(Locale.ROOT, "%3s %14s %12s %12s %12s%n", "s", "faults M/s", "L2 ns/read", "mem ns/read",
                "ALU ns/step");
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
            mem += HostProbe.memNanos();
            alu += HostProbe.aluNanos();
            rounds++;
            if (t2 > second || System.nanoTime() >= end) {
                System.out.printf(Locale.ROOT, "%3d %14.2f %12.2f %12.2f %12.2f%n", ++s, faults * 1e3 / faultNs,
                        (double) l2Ns / (rounds * L2_READS), mem / rounds, alu / rounds);
                faultNs = faults = l2Ns = rounds = 0;
                mem = alu = 0;
                second = System.nanoTime() + 1_000_000_000L;
            }
        }
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
}
