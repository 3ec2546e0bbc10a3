package org.shadowbox.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * {@link TlbHitBench}'s accesses timed by the thread's CPU time instead of the wall clock, for a
 * machine too loaded for JMH's throughput to mean anything: while other processes take the
 * cores, a thread's CPU time still counts only the time it ran. Each round times every method
 * (a read and a write that hit the TLB under the MMU named, the plain array read) for the
 * same number of operations, one after the other, and the least CPU time per operation over the rounds is
 * kept (the round least disturbed by cache and TLB pollution from the other processes). It is
 * a cross-check of {@link TlbHitBench}, not a replacement: JMH on a quiet machine is the
 * measurement of record. One MMU per JVM, as JMH forks one per {@code mmu} value, so that the
 * call sites stay monomorphic.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.TlbHitCpuProbe shadow|tdp [ROUNDS] [MILLIONS_PER_ROUND]</pre>
 */
public final class TlbHitCpuProbe {
    private static final int PAGES = 64;
    private static final int WORDS = PAGES * 512;
    private static long x = 0x9e3779b97f4a7c15L;
    /** Consumed results, so that no loop is dead code. */
    static long sink;

    private TlbHitCpuProbe() {
    }

    private static int next() {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return (int) (x & (WORDS - 1));
    }

    private static GuestCpu cpu(String mmu) {
        MmuSandbox s = new MmuSandbox(0);
        Vm vm = s.hypervisor.createVm(VmSpec.pc("probe-" + mmu, 256L << 20, 1).with(VmSpec.MMU, mmu));
        MmuSandbox.buildTables(vm, 0x1000, 1, 0x2000, PAGES);
        GuestCpu cpu = s.mmu.cpu(vm, 0);
        for (int p = 0; p < PAGES; p++) {
            if (!cpu.write(MmuSandbox.GVA + ((long) p << 12), p, 8, true) || !cpu.read(MmuSandbox.GVA + ((long) p << 12), 8, true)) {
                throw new IllegalStateException("warm-up access to page " + p + " faulted");
            }
        }
        return cpu;
    }

    private static long reads(GuestCpu cpu, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            cpu.read(MmuSandbox.GVA + ((long) next() << 3), 8, true);
            sum += cpu.value();
        }
        return sum;
    }

    private static long writes(GuestCpu cpu, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            int w = next();
            sum += cpu.write(MmuSandbox.GVA + ((long) w << 3), w, 8, true) ? 1 : 0;
        }
        return sum;
    }

    private static long plain(long[] a, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += a[next()];
        }
        return sum;
    }

    public static void main(String[] args) {
        String mmu = args.length > 0 ? args[0] : "shadow";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int n = (int) ((args.length > 2 ? Double.parseDouble(args[2]) : 20) * 1_000_000);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        GuestCpu cpu = cpu(mmu);
        long[] plain = new long[WORDS];
        String[] names = {mmu + " read hit", mmu + " write hit", "plain long[] read"};
        double[] best = new double[names.length];
        java.util.Arrays.fill(best, Double.MAX_VALUE);
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < names.length; m++) {
                long t0 = mx.getCurrentThreadCpuTime();
                sink += switch (m) {
                    case 0 -> reads(cpu, n);
                    case 1 -> writes(cpu, n);
                    default -> plain(plain, n);
                };
                double ns = (double) (mx.getCurrentThreadCpuTime() - t0) / n;
                if (r > 0) { // the first round is the JIT's warm-up
                    best[m] = Math.min(best[m], ns);
                }
            }
        }
        double floor = best[names.length - 1];
        System.out.printf("TlbHitCpuProbe %s: %d rounds of %d operations each, least CPU time per operation%n", mmu, rounds, n);
        for (int m = 0; m < names.length; m++) {
            System.out.printf("  %-18s %6.2f ns  %5.2f x the plain read%n", names[m], best[m], best[m] / floor);
        }
        System.out.println("  (sink " + (sink & 1) + ")");
    }
}
