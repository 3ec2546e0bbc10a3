package org.shadowbox.bench;

import java.util.Map;
import java.util.TreeMap;

import org.shadowbox.run.internal.CostModel;
import org.shadowbox.run.internal.RunReport;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * Whether one {@code kernel-build} run on 2 host threads does the same modelled work per guest
 * access as a run on one: {@code KernelBuildBench}'s run (fresh 1 GiB VM of 4 vCPUs, page
 * tracking, default scale) alternating between 1 and 2 threads in one JVM, every MMU counter of
 * the measured runs per million guest accesses, side by side. A 2-thread run's interleaving is
 * the host's, so its counts vary from run to run; if they did not match the one-thread counts
 * per access, a 2-thread run that costs more CPU per access could be doing more work (more TLB
 * misses, faults or zaps), not the same work dearer. Counters that differ by more than 2% are
 * marked.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.SmpCountsProbe [WARMUP] [ROUNDS] [shadow|tdp]</pre>
 */
public final class SmpCountsProbe {
    private SmpCountsProbe() {
    }

    public static void main(String[] args) {
        ProbeArgs a = ProbeArgs.parse("SmpCountsProbe", args, 2, 6);
        int warmup = a.warmup();
        int rounds = a.rounds();
        String mmu = a.mmu();
        MmuSandbox sandbox = new MmuSandbox(0);
        Map<String, double[]> perMillion = new TreeMap<>();
        double[] accesses = new double[2];
        for (int i = 0; i < warmup + rounds; i++) {
            for (int threads = 1; threads <= 2; threads++) {
                String name = "counts" + i + "t" + threads;
                Vm vm = sandbox.hypervisor.createVm(VmSpec.pc(name, 1L << 30, 4).with(VmSpec.MMU, mmu));
                try {
                    RunReport r = sandbox.simulator.run(vm, "kernel-build", 0, 1, threads, CostModel.defaults(), null);
                    if (i < warmup) {
                        continue;
                    }
                    double n = r.counts().accesses();
                    accesses[threads - 1] += n;
                    for (Map.Entry<String, Long> e : r.mmuStats().entrySet()) {
                        perMillion.computeIfAbsent(e.getKey(), k -> new double[2])[threads - 1] += e.getValue() * 1e6 / n;
                    }
                } finally {
                    sandbox.hypervisor.destroyVm(name);
                }
            }
        }
        System.out.printf("kernel-build, 4 vCPUs, %s MMU, %d runs of each after %d warm-up: %.2f M accesses a run on 1 thread, %.2f on 2%n",
                mmu, rounds, warmup, accesses[0] / rounds / 1e6, accesses[1] / rounds / 1e6);
        System.out.printf("%-32s %14s %14s %8s%n", "MMU counter, per M accesses", "1 thread", "2 threads", "2 / 1");
        for (Map.Entry<String, double[]> e : perMillion.entrySet()) {
            double one = e.getValue()[0] / rounds;
            double two = e.getValue()[1] / rounds;
            if (one == 0 && two == 0) {
                continue;
            }
            String ratio = one == 0 ? "new" : String.format("%.3f", two / one);
            boolean differs = one == 0 || Math.abs(two / one - 1) > 0.02;
            System.out.printf("%-32s %14.1f %14.1f %8s%s%n", e.getKey(), one, two, ratio, differs ? "  *" : "");
        }
    }
}
