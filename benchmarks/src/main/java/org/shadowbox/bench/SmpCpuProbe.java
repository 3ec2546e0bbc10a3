package org.shadowbox.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.run.internal.CostModel;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * Host CPU time per simulated guest access of {@code KernelBuildBench}'s run (fresh 1 GiB VM of
 * 4 vCPUs, shadow MMU, page tracking, default scale), one thread against two, and for two threads
 * split by how much of the time both vCPU threads were on a core at once. A machine shared with
 * other work runs the two threads at once only part of the time, which hides what two threads
 * cost each other (cache lines both write, waits that spin): so every progress tick of a run
 * (about 65,536 accesses; the workload only, not the boot or the verification) is an interval with its two threads' CPU time ({@link ThreadMXBean}),
 * its wall time and its accesses, and the intervals are grouped by their overlap, the threads'
 * CPU time over the wall time (1.0: one at a time; 2.0: both on a core throughout). The line for
 * overlap 1.8 to 2.0 is what a quiet machine gives; the one-thread line is the baseline, measured
 * in the same JVM, alternating with the two-thread runs, so that both use the same compiled code.
 * The ceiling is measured the same way, also alternating: two independent one-thread runs at
 * once, one per thread (each thread's CPU time per its own run's accesses), nothing shared but
 * the JVM and the machine. If one run on two threads costs more per access than two runs do at
 * the same overlap, the difference is what the two vCPU threads of one VM share.
 *
 * <pre>java [-Dshadowbox.probe.mmu=tdp] -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.SmpCpuProbe [WARMUP] [ROUNDS]</pre>
 */
public final class SmpCpuProbe {
    private static final String OTHER = "shadowbox-guest-vcpu-thread-1";
    private static final int BUCKETS = 5;
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    /** Prints a line before each measured run, to place a JIT log ({@code -XX:+PrintCompilation}) against the rounds. */
    private static final boolean MARKS = Boolean.getBoolean("shadowbox.probe.marks");
    /** The VMs' MMU ({@code -Dshadowbox.probe.mmu=tdp}; the shadow MMU by default), as {@code KernelBuildBench}'s {@code mmu}. */
    private static final String MMU = System.getProperty("shadowbox.probe.mmu", "shadow");
    /**
     * Prints each round's figures ({@code -Dshadowbox.probe.each=true}): whether the extra cost of
     * two threads moves from run to run in one JVM (each run's objects placed anew) or only from
     * JVM to JVM (something placed once per JVM).
     */
    private static final boolean EACH = Boolean.getBoolean("shadowbox.probe.each");

    private SmpCpuProbe() {
    }

    /** CPU nanoseconds and accesses of intervals, by overlap bucket (0.0-0.4, ... 1.6-2.0; one thread: bucket 0). */
    private static final class Sums {
        final double[] cpu = new double[BUCKETS];
        final double[] accesses = new double[BUCKETS];
        final double[] wall = new double[BUCKETS];
        double runCpu;
        double runAccesses;
    }

    public static void main(String[] args) {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        MmuSandbox sandbox = new MmuSandbox(0);
        Sums one = new Sums();
        Sums two = new Sums();
        Sums pair = new Sums();
        for (int i = 0; i < warmup; i++) {
            run(sandbox, 1, new Sums());
            run(sandbox, 2, new Sums());
            pair(sandbox, new Sums());
        }
        for (int i = 0; i < rounds; i++) {
            if (MARKS) {
                System.out.println("[probe] round " + i + " 1 thread");
            }
            double c1 = one.runCpu, a1 = one.runAccesses, c2 = two.runCpu, a2 = two.runAccesses;
            double cp = pair.runCpu, ap = pair.runAccesses;
            run(sandbox, 1, one);
            if (MARKS) {
                System.out.println("[probe] round " + i + " 2 threads");
            }
            run(sandbox, 2, two);
            if (MARKS) {
                System.out.println("[probe] round " + i + " pair");
            }
            pair(sandbox, pair);
            if (EACH) {
                double base = (one.runCpu - c1) / (one.runAccesses - a1);
                System.out.printf("round %d: 1 thread %.1f ns/access, 2 threads %.2f x, two runs %.2f x%n", i, base,
                        (two.runCpu - c2) / (two.runAccesses - a2) / base, (pair.runCpu - cp) / (pair.runAccesses - ap) / base);
            }
        }
        if (MARKS) {
            System.out.println("[probe] end");
        }
        System.out.printf("kernel-build, 4 vCPUs, %s MMU, %d rounds (1 thread, 2 threads) after %d warm-up rounds%n", MMU, rounds,
                warmup);
        System.out.printf("1 thread: %.1f ns CPU per access (the workload's ticks)%n", one.runCpu / one.runAccesses);
        System.out.printf("2 threads: %.1f ns CPU per access (the workload's ticks, both threads), %.2f x one thread%n",
                two.runCpu / two.runAccesses, (two.runCpu / two.runAccesses) / (one.runCpu / one.runAccesses));
        System.out.printf("two independent 1-thread runs at once: %.1f ns CPU per access, %.2f x one thread%n",
                pair.runCpu / pair.runAccesses, (pair.runCpu / pair.runAccesses) / (one.runCpu / one.runAccesses));
        table("one run, 2 threads", two, one);
        table("two runs at once", pair, one);
    }

    private static void table(String title, Sums s, Sums one) {
        System.out.printf("%-28s %12s %14s %10s%n", title + ", overlap", "share", "ns CPU/access", "x 1 thread");
        double all = 0;
        for (double a : s.accesses) {
            all += a;
        }
        for (int b = 0; b < BUCKETS; b++) {
            if (s.accesses[b] == 0) {
                continue;
            }
            double ns = s.cpu[b] / s.accesses[b];
            System.out.printf("%.1f to %.1f%-18s %11.1f%% %14.1f %10.2f%n", 0.4 * b, 0.4 * (b + 1), "",
                    100 * s.accesses[b] / all, ns, ns / (one.runCpu / one.runAccesses));
        }
    }

    /**
     * Two independent one-thread runs at once, one per thread, nothing shared but the JVM: the
     * ceiling, measured the same way (each thread's own CPU time per its own run's accesses; the
     * overlap from both threads' CPU time).
     */
    private static void pair(MmuSandbox sandbox, Sums sums) {
        Thread[] threads = new Thread[2];
        Interval[] ivs = new Interval[2];
        java.util.concurrent.CyclicBarrier ids = new java.util.concurrent.CyclicBarrier(2);
        Throwable[] failed = new Throwable[2];
        for (int k = 0; k < 2; k++) {
            int me = k;
            threads[k] = new Thread(() -> {
                try {
                    ids.await();
                    String name;
                    synchronized (SmpCpuProbe.class) {
                        name = "smpcpu" + n++;
                    }
                    Vm vm = sandbox.hypervisor.createVm(VmSpec.pc(name, 1L << 30, 4).with(VmSpec.MMU, MMU));
                    try {
                        sandbox.simulator.run(vm, "kernel-build", 0, 1, 1, CostModel.defaults(), ivs[me]);
                    } finally {
                        sandbox.hypervisor.destroyVm(name);
                    }
                } catch (Throwable e) {
                    failed[me] = e;
                }
            }, "smpcpu-pair-" + k);
        }
        Sums[] own = {new Sums(), new Sums()};
        for (int k = 0; k < 2; k++) {
            ivs[k] = new Interval(threads[k].getId(), 1, own[k]);
            ivs[k].otherId = threads[1 - k].getId();
            ivs[k].pairOnly = true;
        }
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        for (int k = 0; k < 2; k++) {
            if (failed[k] != null) {
                throw new IllegalStateException(failed[k]);
            }
            sums.runCpu += ivs[k].cpu0;
            sums.runAccesses += ivs[k].accesses;
            for (int b = 0; b < BUCKETS; b++) {
                sums.cpu[b] += own[k].cpu[b];
                sums.accesses[b] += own[k].accesses[b];
            }
        }
    }

    private static int n;

    private static void run(MmuSandbox sandbox, int threads, Sums sums) {
        String name = "smpcpu" + n++;
        Vm vm = sandbox.hypervisor.createVm(VmSpec.pc(name, 1L << 30, 4).with(VmSpec.MMU, MMU));
        long me = Thread.currentThread().getId();
        Interval iv = new Interval(me, threads, sums);
        try {
            sandbox.simulator.run(vm, "kernel-build", 0, 1, threads, CostModel.defaults(), iv);
            sums.runCpu += iv.cpu0 + iv.cpu1;
            sums.runAccesses += iv.accesses;
        } finally {
            sandbox.hypervisor.destroyVm(name);
        }
    }

    /** The progress listener: one interval per tick, on the calling thread (vCPU thread 0). */
    private static final class Interval implements ScenarioRunner.Progress {
        private final long me;
        private final int threads;
        private final Sums sums;
        private long otherId = -1;
        /** Two independent runs: the other thread's CPU time counts for the overlap only. */
        private boolean pairOnly;
        private long lastWall = -1, lastCpu0, lastCpu1, lastAccesses;
        long cpu0, cpu1, accesses;

        Interval(long me, int threads, Sums sums) {
            this.me = me;
            this.threads = threads;
            this.sums = sums;
        }

        @Override
        public void progress(long done, long total, long acc) {
            long wall = System.nanoTime();
            long c0 = MX.getThreadCpuTime(me);
            long c1 = 0;
            if (pairOnly) {
                c1 = Math.max(lastCpu1, MX.getThreadCpuTime(otherId)); // -1 once it has ended
            } else if (threads > 1) {
                if (otherId < 0) {
                    for (Thread t : Thread.getAllStackTraces().keySet()) {
                        if (t.getName().equals(OTHER) && t.isAlive()) {
                            otherId = t.getId();
                        }
                    }
                    if (otherId < 0) {
                        return;
                    }
                }
                c1 = MX.getThreadCpuTime(otherId);
                if (c1 < 0) {
                    return; // the other thread has ended: the run's tail, one thread left
                }
            }
            if (lastWall >= 0 && acc > lastAccesses) {
                long dc = (c0 - lastCpu0) + (c1 - lastCpu1);
                long mine = pairOnly ? c0 - lastCpu0 : dc;
                long da = acc - lastAccesses;
                long dw = wall - lastWall;
                cpu0 += c0 - lastCpu0;
                cpu1 += pairOnly ? 0 : c1 - lastCpu1;
                accesses += da;
                {
                    int b = (int) Math.min(BUCKETS - 1, Math.max(0, (double) dc / dw / 0.4));
                    sums.cpu[b] += mine;
                    sums.accesses[b] += da;
                    sums.wall[b] += dw;
                }
            }
            lastWall = wall;
            lastCpu0 = c0;
            lastCpu1 = c1;
            lastAccesses = acc;
        }
    }
}
