package org.shadowbox.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * {@link ShadowFaultBench} and {@link NotifierDispatchBench} measured by the benchmark thread's
 * own CPU time and allocated bytes instead of wall time: on a machine shared with other
 * builds, wall-time JMH scores of these benchmarks carry errors larger than the scores (the
 * thread is descheduled), while the thread's CPU time per operation still compares two
 * builds run one after the other. Allocated bytes count the timed part only (JMH's
 * {@code -prof gc} also counts {@code ShadowFaultBench}'s untimed re-shadowing between
 * invocations). Not a replacement for the JMH figures on a quiet machine.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.FaultDispatchProbe [rounds] [notifiers,...]
 * </pre>
 *
 * Prints, per benchmark, the median over {@code rounds} (default 7, the first two are
 * warm-up) of CPU nanoseconds per operation, and bytes allocated per operation.
 */
public final class FaultDispatchProbe {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    static volatile long consumed;

    private FaultDispatchProbe() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        String counts = args.length > 1 ? args[1] : "0,1,2,4,8";
        long tid = Thread.currentThread().getId();

        ShadowFaultBench fault = new ShadowFaultBench();
        fault.setup();
        double[] ns = new double[rounds];
        long bytes = 0;
        long ops = 0;
        long sink = 0;
        for (int r = 0; r < rounds; r++) {
            long cpu = 0;
            long n = 0;
            long end = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < end) {
                fault.reshadow(); // untimed, as in JMH (Level.Invocation)
                long b0 = MX.getThreadAllocatedBytes(tid);
                long t0 = MX.getCurrentThreadCpuTime();
                sink += fault.faultOnExistingShadowPage();
                cpu += MX.getCurrentThreadCpuTime() - t0;
                long b = MX.getThreadAllocatedBytes(tid) - b0;
                n += 64 * 511;
                if (r >= 2) {
                    bytes += b;
                    ops += 64 * 511;
                }
            }
            ns[r] = (double) cpu / n;
        }
        consumed = sink; // keeps the reads' results alive, as JMH's return value does
        System.out.printf("ShadowFaultBench: %.1f ns CPU per fault (median of %d rounds), %.3f bytes allocated per fault%n",
                median(ns), rounds - 2, (double) bytes / ops);

        for (String c : counts.split(",")) {
            NotifierDispatchBench d = new NotifierDispatchBench();
            d.notifiers = Integer.parseInt(c.trim());
            d.mode = "direct";
            d.setup();
            double[] w = new double[rounds];
            long wb = 0;
            long wops = 0;
            for (int r = 0; r < rounds; r++) {
                long b0 = MX.getThreadAllocatedBytes(tid);
                long t0 = MX.getCurrentThreadCpuTime();
                for (int i = 0; i < 5_000_000; i++) {
                    d.emulatedWrite();
                }
                w[r] = (MX.getCurrentThreadCpuTime() - t0) / 5e6;
                if (r >= 2) {
                    wb += MX.getThreadAllocatedBytes(tid) - b0;
                    wops += 5_000_000;
                }
            }
            System.out.printf("NotifierDispatchBench, %d notifiers: %.1f ns CPU per write (median), %.3f bytes allocated per write%n",
                    d.notifiers, median(w), (double) wb / wops);
        }
    }

    /** The median of {@code a} without its first two (warm-up) entries. */
    private static double median(double[] a) {
        double[] m = Arrays.copyOfRange(a, Math.min(2, a.length - 1), a.length);
        Arrays.sort(m);
        return m[m.length / 2];
    }
}
