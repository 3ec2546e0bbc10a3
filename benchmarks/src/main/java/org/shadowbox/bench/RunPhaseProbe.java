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
 * fraction (Amdahl).
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
        for (int i = 0; i < warmup + rounds; i++) {
            for (int threads = 1; threads <= 2; threads++) {
                long[] t = run(sandbox, threads);
                if (i >= warmup) {
                    for (int p = 0; p < PHASES.length; p++) {
                        sums[threads][p] += t[p];
                    }
                }
            }
        }
        System.out.printf("kernel-build, 4 vCPUs, %d rounds after %d warm-up rounds; mean ms per run%n", rounds, warmup);
        System.out.printf("%-14s %10s %10s%n", "phase", "1 thread", "2 threads");
        double[] all = new double[3];
        for (int p = 0; p < PHASES.length; p++) {
            System.out.printf("%-14s %10.2f %10.2f%n", PHASES[p], sums[1][p] / rounds / 1e6, sums[2][p] / rounds / 1e6);
            all[1] += sums[1][p];
            all[2] += sums[2][p];
        }
        System.out.printf("%-14s %10.2f %10.2f%n", "whole run", all[1] / rounds / 1e6, all[2] / rounds / 1e6);
        for (int th = 1; th <= 2; th++) {
            double serial = all[th] - sums[th][2];
            System.out.printf("%d thread(s): outside the workload %.2f ms, %.2f%% of the run%n", th, serial / rounds / 1e6,
                    100 * serial / all[th]);
        }
        // Amdahl from the one-thread run: s serial, 1 - s parallel on two threads.
        double s = (all[1] - sums[1][2]) / all[1];
        System.out.printf("Amdahl's bound on 2 threads from the 1-thread run's serial fraction %.2f%%: %.3f x%n", 100 * s,
                1 / (s + (1 - s) / 2));
    }

    private static int n;

    /** One run's phases, wall nanoseconds. */
    private static long[] run(MmuSandbox sandbox, int threads) {
        String name = "phase" + n++;
        long[] stamp = new long[6];
        long t0 = System.nanoTime();
        Vm vm = sandbox.hypervisor.createVm(VmSpec.pc(name, 1L << 30, 4));
        stamp[0] = System.nanoTime();
        ScenarioRunner.Progress p = (done, total, accesses) -> {
            long now = System.nanoTime();
            if (stamp[1] == 0) {
                stamp[1] = now;
            }
            if (done >= total && total > 0) {
                stamp[2] = now;
            }
        };
        try {
            RunReport r = sandbox.simulator.run(vm, "kernel-build", 0, 1, threads, CostModel.defaults(), p);
            stamp[3] = System.nanoTime();
            if (r.counts().accesses() == 0) {
                throw new IllegalStateException("no accesses");
            }
        } finally {
            sandbox.hypervisor.destroyVm(name);
        }
        stamp[4] = System.nanoTime();
        return new long[] {stamp[0] - t0, stamp[1] - stamp[0], stamp[2] - stamp[1], stamp[3] - stamp[2], stamp[4] - stamp[3]};
    }
}
