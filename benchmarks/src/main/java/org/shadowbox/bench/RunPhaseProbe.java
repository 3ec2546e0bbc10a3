package org.shadowbox.bench;

import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.run.internal.CostModel;
import org.shadowbox.run.internal.RunReport;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * Wall time of each phase of {@code KernelBuildBench}'s run (fresh 1 GiB VM of 4 vCPUs, shadow
 * MMU, page tracking, default scale), 1 thread against 2 alternating in one JVM: VM creation;
 * the run up to the scenario's first progress report (claims, the guest model's state, the
 * guest's boot, the scenario's files and first process); the workload (first report to the
 * report of its last unit); the run's tail (the verification of the guest's memory and the
 * charge); the VM's destruction. The parts that are not the workload run on one host thread
 * whatever the run's {@code --threads}: with the workload's share this gives the run's serial
 * fraction (Amdahl). Each phase is given as wall time and as the calling thread's CPU time
 * ({@link java.lang.management.ThreadMXBean}): on a machine shared with other work the wall time
 * of a few milliseconds is mostly the load's, while the CPU time of the phases outside the
 * workload, all on the calling thread (the verification's part 0 with several threads, its
 * other parts at once on others), is what a quiet machine's wall time would be.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.RunPhaseProbe [WARMUP] [ROUNDS]</pre>
 */
public final class RunPhaseProbe {
    private static final String[] PHASES = {"createVm", "boot+start", "workload", "verify+charge", "destroyVm"};

    private RunPhaseProbe() {
    }

    public static void main(String[] args) {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        MmuSandbox sandbox = new MmuSandbox(0);
        double[][] sums = new double[3][PHASES.length];
        double[][] cpu = new double[3][PHASES.length];
        for (int i = 0; i < warmup + rounds; i++) {
            for (int threads = 1; threads <= 2; threads++) {
                long[] t = run(sandbox, threads);
                if (i >= warmup) {
                    for (int p = 0; p < PHASES.length; p++) {
                        sums[threads][p] += t[p];
                        cpu[threads][p] += t[PHASES.length + p];
                    }
                }
            }
        }
        System.out.printf("kernel-build, 4 vCPUs, %d rounds after %d warm-up rounds; mean ms per run%n", rounds, warmup);
        System.out.printf("%-14s %12s %12s %12s %12s%n", "phase", "1 thr wall", "1 thr CPU", "2 thr wall", "2 thr CPU");
        double[] all = new double[3];
        double[] out = new double[3];
        for (int p = 0; p < PHASES.length; p++) {
            System.out.printf("%-14s %12.2f %12.2f %12.2f %12.2f%n", PHASES[p], sums[1][p] / rounds / 1e6,
                    cpu[1][p] / rounds / 1e6, sums[2][p] / rounds / 1e6, cpu[2][p] / rounds / 1e6);
            all[1] += sums[1][p];
            all[2] += sums[2][p];
            if (p != 2) {
                out[1] += cpu[1][p];
                out[2] += cpu[2][p];
            }
        }
        System.out.printf("%-14s %12.2f %12s %12.2f%n", "whole run", all[1] / rounds / 1e6, "", all[2] / rounds / 1e6);
        for (int th = 1; th <= 2; th++) {
            System.out.printf("%d thread(s): outside the workload %.2f ms wall, %.2f ms CPU of the calling thread%n", th,
                    (all[th] - sums[th][2]) / rounds / 1e6, out[th] / rounds / 1e6);
        }
        // Amdahl from the one-thread run: s serial, 1 - s parallel on two threads.
        double whole = 0;
        for (double c : cpu[1]) {
            whole += c;
        }
        double s = out[1] / whole;
        System.out.printf("serial fraction of the 1-thread run (its CPU outside the workload over all its CPU): %.2f%%,"
                + " Amdahl's bound on 2 threads %.3f x%n", 100 * s, 1 / (s + (1 - s) / 2));
    }

    private static int n;

    private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    /** One run's phases: wall nanoseconds, then the calling thread's CPU nanoseconds. */
    private static long[] run(MmuSandbox sandbox, int threads) {
        String name = "phase" + n++;
        long[] stamp = new long[5];
        long[] cpu = new long[5];
        long t0 = System.nanoTime();
        long c0 = MX.getCurrentThreadCpuTime();
        Vm vm = sandbox.hypervisor.createVm(VmSpec.pc(name, 1L << 30, 4));
        stamp[0] = System.nanoTime();
        cpu[0] = MX.getCurrentThreadCpuTime();
        ScenarioRunner.Progress p = (done, total, accesses) -> {
            long now = System.nanoTime();
            if (stamp[1] == 0) {
                stamp[1] = now;
                cpu[1] = MX.getCurrentThreadCpuTime();
            }
            if (done >= total && total > 0) {
                stamp[2] = now;
                cpu[2] = MX.getCurrentThreadCpuTime();
            }
        };
        try {
            RunReport r = sandbox.simulator.run(vm, "kernel-build", 0, 1, threads, CostModel.defaults(), p);
            stamp[3] = System.nanoTime();
            cpu[3] = MX.getCurrentThreadCpuTime();
            if (r.counts().accesses() == 0) {
                throw new IllegalStateException("no accesses");
            }
        } finally {
            sandbox.hypervisor.destroyVm(name);
        }
        stamp[4] = System.nanoTime();
        cpu[4] = MX.getCurrentThreadCpuTime();
        return new long[] {stamp[0] - t0, stamp[1] - stamp[0], stamp[2] - stamp[1], stamp[3] - stamp[2], stamp[4] - stamp[3],
            cpu[0] - c0, cpu[1] - cpu[0], cpu[2] - cpu[1], cpu[3] - cpu[2], cpu[4] - cpu[3]};
    }
}
