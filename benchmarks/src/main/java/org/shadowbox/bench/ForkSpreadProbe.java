package org.shadowbox.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * One JVM's figure for {@link KernelBuildBench}'s run, by wall time and by CPU time, so that
 * the spread between JVMs (forks) can be measured on a machine other processes share: a few
 * warm-up runs, then the measured ones. Prints one line, on stderr (so that the JIT's diagnostic
 * output on stdout does not cut into it): simulated accesses per wall second,
 * and CPU nanoseconds per access, of the benchmark thread alone (meaningful with 1 thread: it
 * is the one vCPU thread, and other processes taking the cores do not inflate it much) and of
 * the whole process (with 2 threads the only CPU figure; it includes the JIT's compiler threads
 * and the GC, whose shares are printed beside it: the compilation time of the measured runs and
 * their GC time). {@code bench/jitshape.sh} runs it in several JVMs, each beside the shape the JIT gave
 * the guest's hot path.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.ForkSpreadProbe [THREADS] [WARMUP] [RUNS]</pre>
 */
public final class ForkSpreadProbe {
    private ForkSpreadProbe() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        MmuSandbox sandbox = new MmuSandbox(0);
        for (int i = 0; i < warmup; i++) {
            KernelBuildBench.run(sandbox, "warm" + i, 4, threads);
        }
        long jit0 = jit.getTotalCompilationTime();
        long gc0 = gcMillis();
        long proc0 = os.getProcessCpuTime();
        long cpu0 = mx.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        long accesses = 0;
        StringBuilder each = new StringBuilder();
        for (int i = 0; i < runs; i++) {
            long c = mx.getCurrentThreadCpuTime();
            long a = KernelBuildBench.run(sandbox, "probe" + i, 4, threads);
            each.append(String.format(" %.1f", (double) (mx.getCurrentThreadCpuTime() - c) / a));
            accesses += a;
        }
        long wall = System.nanoTime() - t0;
        long cpu = mx.getCurrentThreadCpuTime() - cpu0;
        long proc = os.getProcessCpuTime() - proc0;
        // on stderr, so that the JIT's diagnostic output (-XX:+PrintCompilation, on stdout) does not cut into it
        System.err.printf("threads %d warmup %d runs %d: %.2f M accesses/s wall; %.2f ns CPU/access (bench thread), %.2f ns "
                + "(process); jit %d ms, gc %d ms; load %.2f; per run (bench thread, ns/access):%s%n", threads, warmup, runs,
                accesses / (wall / 1e3), (double) cpu / accesses, (double) proc / accesses,
                jit.getTotalCompilationTime() - jit0, gcMillis() - gc0, os.getSystemLoadAverage(), each);
    }

    private static long gcMillis() {
        long ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }
}
