package org.shadowbox.bench;

/**
 * The workload half of {@code bench/smp-perf-diff.sh}: {@code KernelBuildBench}'s run (fresh
 * 1 GiB VM of 4 vCPUs, page tracking, default scale) in two modes, alternating in one JVM so that
 * both use the same compiled code and meet the host in the same phases: {@code smp}, one run on 2
 * host threads (the 2-thread run), and {@code two}, two independent 1-thread runs at once
 * ({@code KernelBuildTwoRunsBench}'s ceiling, the second run on a thread named {@code
 * second-run}, each run in a hypervisor of its own, as there). {@code WARMUP} rounds, then {@code ROUNDS} measured ones, each one of each mode.
 * Every measured run is printed as a line {@code smp|two START END} of {@link System#nanoTime()}
 * values, which on Linux is {@code CLOCK_MONOTONIC}, the clock {@code perf record -k mono} stamps
 * its samples with: so a profile of the whole JVM can be split by mode and cut to the measured runs.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.SmpPerfProbe [WARMUP] [ROUNDS] [shadow|tdp]</pre>
 */
public final class SmpPerfProbe {
    private SmpPerfProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        ProbeArgs a = ProbeArgs.parse("SmpPerfProbe", args, 12, 10);
        int warmup = a.warmup();
        int rounds = a.rounds();
        String mmu = a.mmu();
        MmuSandbox sandbox = new MmuSandbox(0);
        MmuSandbox second = new MmuSandbox(0);
        long smpAccesses = 0;
        long twoAccesses = 0;
        for (int i = 0; i < warmup + rounds; i++) {
            boolean measured = i >= warmup;
            // A full collection before each run, outside its span: otherwise a run pays, in
            // collections and in caches the collector cooled, for the garbage of the run before it,
            // which is the other mode's (two runs leave two VMs of it, one SMP run one).
            System.gc();
            long t0 = System.nanoTime();
            long n = KernelBuildBench.run(sandbox, "smp" + i, 4, 2, mmu);
            long t1 = System.nanoTime();
            System.gc();
            long t2 = System.nanoTime();
            long m = twoRuns(sandbox, second, "two" + i, mmu);
            long t3 = System.nanoTime();
            if (measured) {
                System.out.println("smp " + t0 + " " + t1);
                System.out.println("two " + t2 + " " + t3);
                smpAccesses += n;
                twoAccesses += m;
            }
        }
        System.out.println("rounds " + rounds + " accesses smp " + smpAccesses + " two " + twoAccesses);
    }

    /**
     * Two independent one-thread runs at once, the second on a thread named {@code second-run}, each
     * in a hypervisor of its own as in {@code KernelBuildTwoRunsBench} (one hypervisor's budget, hooks
     * and page-track service would be objects both threads write); their accesses.
     */
    private static long twoRuns(MmuSandbox sandbox, MmuSandbox second, String name, String mmu) throws InterruptedException {
        long[] other = new long[1];
        Throwable[] failed = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                other[0] = KernelBuildBench.run(second, name + "b", 4, 1, mmu);
            } catch (Throwable e) { // reported on the calling thread
                failed[0] = e;
            }
        }, "second-run");
        t.start();
        long n = KernelBuildBench.run(sandbox, name + "a", 4, 1, mmu);
        t.join();
        if (failed[0] != null) {
            throw new IllegalStateException("the second run failed", failed[0]);
        }
        return n + other[0];
    }
}
