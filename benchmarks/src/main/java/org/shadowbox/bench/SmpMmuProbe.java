package org.shadowbox.bench;

import java.util.concurrent.CyclicBarrier;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.shadow.FlushWaitStats;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.MmuLockStats;

/**
 * The MMU's access path alone on two host threads, without the guest kernel model: is a guest
 * access dearer when the other vCPU of the same VM runs at once than when a vCPU of another VM
 * does? Each host thread drives one vCPU through the MMU service's {@link GuestCpu}, with its own
 * guest page tables (its own CR3, as two processes) mapping its own data pages, and makes random
 * 8-byte user accesses over them: three reads to one store, no fault once warm (every spte or TDP
 * entry is in place), so what runs is the TLB hit and the TLB miss's walk, as in most of a
 * kernel build's accesses. Four arms, each a measured span per thread, in an order that rotates
 * from round to round in one JVM (the host's phases move whole JVMs: docs/benchmarks.md):
 * <ul>
 * <li>{@code one}: one thread, vCPU 0 of VM A;</li>
 * <li>{@code smp}: two threads, vCPUs 0 and 1 of VM A, their data pages in two ranges far
 * apart;</li>
 * <li>{@code interleaved}: two threads, vCPUs 0 and 1 of VM B, their data pages interleaved gfn
 * by gfn (even to one, odd to the other), so that every per-gfn array of the VM (rmaps, page
 * track's counts, the host pages' index) puts the two threads' entries in the same lines, as a
 * page allocator that hands frames between CPUs would;</li>
 * <li>{@code two}: two threads, vCPU 0 of VM C and vCPU 0 of VM D: nothing shared but the JVM
 * and the machine, the ceiling.</li>
 * </ul>
 * A line's figure is the time per access of each thread's span, averaged over the threads; a
 * ratio is per round, then its mean and 95% interval over the rounds.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.SmpMmuProbe [WARMUP] [ROUNDS] [shadow|tdp] [PAGES] [MILLION_ACCESSES] [CHURN]</pre>
 * With {@code CHURN} (a power of two), one access in that many is preceded by the guest remapping
 * one of the thread's pages ({@link #remap}): the shadow MMU's traps, syncs, faults and remote
 * flushes under {@code mmu_lock}, which the warm accesses alone never take.
 */
public final class SmpMmuProbe {
    private static final long PML4_A = 0x100, PML4_B = 0x200;
    private static final long DATA = 0x10000;
    private static final String[] ARMS = {"one", "smp", "interleaved", "two"};

    /** 0, or one access in this many (a power of two) is preceded by a remap of a random page of the thread's. */
    private static int churn;
    /** The gva at which a vCPU's page-table pages are mapped, page-table page t at {@code PT_MAP + t * 4096}. */
    private static final long PT_MAP = MmuSandbox.GVA + (256L << 21);

    private SmpMmuProbe() {
    }

    public static void main(String[] args) throws Exception {
        int warmup = 0, rounds = 0, pages = 0;
        long accesses = 0;
        String mmu = args.length > 2 ? args[2] : "shadow";
        try {
            warmup = args.length > 0 ? Integer.parseInt(args[0]) : 3;
            rounds = args.length > 1 ? Integer.parseInt(args[1]) : 16;
            pages = args.length > 3 ? Integer.parseInt(args[3]) : 1024;
            accesses = (args.length > 4 ? Long.parseLong(args[4]) : 3) * 1_000_000L;
            churn = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        } catch (NumberFormatException e) {
            rounds = -1; // reported below
        }
        if (warmup < 0 || rounds < 2 || !(mmu.equals("shadow") || mmu.equals("tdp")) || Integer.bitCount(pages) != 1
                || pages < 8 || pages > 16384 || accesses < 1 || accesses > 1_000_000_000L
                || churn < 0 || (churn != 0 && Integer.bitCount(churn) != 1) || args.length > 6) {
            System.err.println("SmpMmuProbe: arguments [WARMUP >= 0] [ROUNDS >= 2] [shadow|tdp] [PAGES: a power of two, 8 to 16384]"
                    + " [MILLION_ACCESSES: 1 to 1000] [CHURN: 0 or a power of two], got '" + String.join(" ", args) + "'");
            System.exit(2);
        }
        MmuSandbox s = new MmuSandbox(0);
        GuestCpu[] a = vm(s, "a", mmu, pages, false);
        Vm vmA = s.hypervisor.require("a");
        GuestCpu[] b = vm(s, "b", mmu, pages, true);
        GuestCpu[] c = vm(s, "c", mmu, pages, false);
        GuestCpu[] d = vm(s, "d", mmu, pages, false);
        GuestCpu[][] arms = {{a[0]}, {a[0], a[1]}, {b[0], b[1]}, {c[0], d[0]}};
        Worker w1 = new Worker();
        w1.start();
        double[][] ns = new double[ARMS.length][rounds];
        // -Dshadowbox.lockstat=true: mmu_lock's and the remote flushes' figures, per arm, summed over the measured rounds
        double[][] lockstat = new double[ARMS.length][6];
        java.util.Map<String, Long> before = null, after = null;
        for (int r = -warmup; r < rounds; r++) {
            for (int i = 0; i < ARMS.length; i++) {
                int arm = Math.floorMod(r + i, ARMS.length);
                System.gc();
                if (arm == 1 && r == rounds - 1) {
                    before = stats(s, vmA);
                }
                if (MmuLockStats.STATS) {
                    MmuLockStats.reset();
                    FlushWaitStats.reset();
                }
                double t = run(arms[arm], w1, pages, accesses, 0x9e3779b97f4a7c15L * (r + 17) + arm);
                if (MmuLockStats.STATS && r >= 0) {
                    MmuLockStats.Row m = MmuLockStats.read();
                    FlushWaitStats.Row f = FlushWaitStats.read();
                    double[] l = lockstat[arm];
                    l[0] += m.acquisitions();
                    l[1] += m.contended();
                    l[2] += m.heldNanos();
                    l[3] += m.waitNanos();
                    l[4] += f.waitNanos();
                    l[5] += f.postNanos();
                }
                if (arm == 1 && r == rounds - 1) {
                    after = stats(s, vmA);
                }
                if (r >= 0) {
                    ns[arm][r] = t;
                }
            }
            if (r >= 0) {
                System.out.printf("round %2d: one %.2f  smp %.2f  interleaved %.2f  two %.2f ns/access%n",
                        r, ns[0][r], ns[1][r], ns[2][r], ns[3][r]);
            }
        }
        w1.finish();
        System.out.printf("%s, %d pages a thread, %d M accesses a thread and arm, remap 1 in %d, %d rounds after %d%n",
                mmu, pages, accesses / 1_000_000, churn, rounds, warmup);
        for (int i = 0; i < ARMS.length; i++) {
            System.out.printf("%-12s %s ns/access%n", ARMS[i], interval(ns[i], null));
        }
        StringBuilder ev = new StringBuilder("the smp arm's last round, per million accesses:");
        for (String k : new String[] {"mmu_lock", "remote_tlb_flush", "pf_fixed", "pf_emulate", "invlpg", "mmu_sync_page", "tlb_miss"}) {
            if (after.containsKey(k)) {
                ev.append(String.format(" %s %.0f", k, (after.get(k) - before.get(k)) * 1e6 / (2.0 * accesses)));
            }
        }
        System.out.println(ev);
        if (MmuLockStats.STATS) {
            System.out.println("per remap (mmu_lock and flush figures of each arm over its remaps; -Dshadowbox.lockstat=true):");
            for (int i = 0; i < ARMS.length; i++) {
                double remaps = churn == 0 ? 0 : (double) rounds * accesses * (i == 0 ? 1 : 2) / churn;
                double[] l = lockstat[i];
                System.out.printf("%-12s mmu_lock %.2f acquisitions, %.3f contended, held %.0f ns, waited %.0f ns; flushes waited %.0f ns, posted %.0f ns%n",
                        ARMS[i], l[0] / remaps, l[1] / remaps, l[2] / remaps, l[3] / remaps, l[4] / remaps, l[5] / remaps);
            }
        }
        System.out.printf("smp / two           %s%n", interval(ns[1], ns[3]));
        System.out.printf("interleaved / two   %s%n", interval(ns[2], ns[3]));
        System.out.printf("interleaved / smp   %s%n", interval(ns[2], ns[1]));
        System.out.printf("two / one           %s%n", interval(ns[3], ns[0]));
    }

    private static java.util.Map<String, Long> stats(MmuSandbox s, Vm vm) {
        java.util.Map<String, Long> m = new java.util.HashMap<>();
        s.mmu.stats(vm).forEach(st -> m.put(st.name(), st.value()));
        return m;
    }

    private static String interval(double[] x, double[] over) {
        int n = x.length;
        double sum = 0, sq = 0;
        for (int i = 0; i < n; i++) {
            double v = over == null ? x[i] : x[i] / over[i];
            sum += v;
            sq += v * v;
        }
        double mean = sum / n;
        double sd = n > 1 ? Math.sqrt(Math.max(0, (sq - n * mean * mean) / (n - 1))) : 0;
        return String.format("%.3f +- %.3f", mean, 2.0 * sd / Math.sqrt(n)); // about 95% for 10 rounds or more
    }

    /**
     * A VM of 1 GiB and two vCPUs: vCPU i gets 64-bit paging with its own four-level tables at
     * gfn {@code PML4_A} or {@code PML4_B}, mapping {@code pages} user pages from gva 0x4000_0000
     * onto its data pages; each data page is written once through the vCPU, so every translation
     * is in place before the probe measures.
     */
    private static GuestCpu[] vm(MmuSandbox s, String name, String mmu, int pages, boolean interleaved) {
        Vm vm = s.hypervisor.createVm(VmSpec.pc(name, 1L << 30, 2).with(VmSpec.MMU, mmu));
        GuestMemory mem = vm.memory();
        GuestCpu[] cpus = new GuestCpu[2];
        for (int v = 0; v < 2; v++) {
            long pml4 = v == 0 ? PML4_A : PML4_B;
            long pdpt = pml4 + 1, pd = pml4 + 2;
            long A = MmuSandbox.A, P = MmuSandbox.P, RW = MmuSandbox.RW, US = MmuSandbox.US, D = MmuSandbox.D;
            mem.write(pml4 << 12, (pdpt << 12) | P | RW | US | A, 8);
            mem.write((pdpt << 12) + 8, (pd << 12) | P | RW | US | A, 8);
            int tables = pages / 512 + (pages % 512 == 0 ? 0 : 1);
            long ptMap = pd + 1 + tables; // maps the page-table pages themselves, for the guest's pte writes
            mem.write((pd << 12) + 8L * 256, (ptMap << 12) | P | RW | US | A, 8);
            for (int t = 0; t < tables; t++) {
                mem.write((ptMap << 12) + 8L * t, ((pd + 1 + t) << 12) | P | RW | A | D, 8);
            }
            for (int t = 0; t < tables; t++) {
                long pt = pd + 1 + t;
                mem.write((pd << 12) + 8L * t, (pt << 12) | P | RW | US | A, 8);
                for (int i = 0; i < 512 && t * 512 + i < pages; i++) {
                    int k = t * 512 + i;
                    long gfn = interleaved ? DATA + 2L * k + v : DATA + (long) v * 0x10000 + k;
                    mem.write((pt << 12) + 8L * i, (gfn << 12) | P | RW | US | A | D, 8);
                }
            }
            vm.vcpu(v).set(Register.CR4, Register.CR4_PAE);
            vm.vcpu(v).set(Register.EFER, Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE);
            vm.vcpu(v).set(Register.CR0, Register.CR0_PE | Register.CR0_PG | Register.CR0_WP);
            vm.vcpu(v).set(Register.CR3, pml4 << 12);
            cpus[v] = s.mmu.cpu(vm, v);
            for (int p = 0; p < pages; p++) {
                if (!cpus[v].write(MmuSandbox.GVA + ((long) p << 12), p, 8, true)) {
                    throw new IllegalStateException("vCPU " + v + ": the warm-up store to page " + p + " faulted");
                }
            }
        }
        return cpus;
    }

    /** Runs the arm's threads (this one and {@code w1}); returns the mean ns per access of their spans. */
    private static double run(GuestCpu[] cpus, Worker w1, int pages, long accesses, long seed) throws Exception {
        if (cpus.length == 1) {
            return loop(cpus[0], pages, accesses, seed);
        }
        w1.go(cpus[1], pages, accesses, seed ^ 0x5555_5555L);
        double t0 = loop(cpus[0], pages, accesses, seed);
        double t1 = w1.await();
        return (t0 + t1) / 2;
    }

    /** {@code n} accesses at random words of the thread's pages, one in four a store; ns per access. */
    static double loop(GuestCpu cpu, int pages, long n, long seed) {
        long x = seed | 1;
        int mask = pages * 512 - 1;
        long faults = 0;
        long t0 = System.nanoTime();
        for (long i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            long gva = MmuSandbox.GVA + (((int) x & mask) << 3);
            if (churn != 0 && ((x >>> 40) & (churn - 1)) == 0) {
                remap(cpu, (int) (x >>> 20) & (pages - 1));
            }
            boolean ok = (x >>> 62) == 0 ? cpu.write(gva, i, 8, true) : cpu.read(gva, 8, true);
            if (!ok) {
                faults++;
            }
        }
        long t = System.nanoTime() - t0;
        if (faults != 0) {
            throw new IllegalStateException(faults + " accesses faulted; the probe measures a warm path only");
        }
        return (double) t / n;
    }

    /**
     * The guest unmaps page {@code p} and maps it again, as {@code munmap} then a fault would: its
     * pte cleared by a kernel store, {@code invlpg}, the pte stored back; the next access to it
     * walks again (and, under the shadow MMU, faults the spte back in). Under the shadow MMU the
     * stores trap (a write-protected page-table page) or, once the page is unsync, {@code invlpg}
     * syncs it: KVM's paths for a guest page-table edit.
     */
    private static void remap(GuestCpu cpu, int p) {
        long pteGva = PT_MAP + ((long) (p >>> 9) << 12) + 8L * (p & 511);
        if (!cpu.read(pteGva, 8, false)) {
            throw new IllegalStateException("reading the pte of page " + p + " faulted");
        }
        long pte = cpu.value();
        if (!cpu.write(pteGva, 0, 8, false)) {
            throw new IllegalStateException("clearing the pte of page " + p + " faulted");
        }
        long gva = MmuSandbox.GVA + ((long) p << 12);
        cpu.invlpg(gva);
        if (!cpu.write(pteGva, pte, 8, false)) {
            throw new IllegalStateException("restoring the pte of page " + p + " faulted");
        }
    }

    /** The second host thread, started once and kept, so that no arm pays for a new thread. */
    private static final class Worker extends Thread {
        private final CyclicBarrier start = new CyclicBarrier(2), end = new CyclicBarrier(2);
        private volatile GuestCpu cpu;
        private volatile int pages;
        private volatile long n, seed;
        private volatile double result;
        private volatile boolean stop;
        private volatile Throwable failure;

        Worker() {
            super("probe-thread-1");
            setDaemon(true);
        }

        void go(GuestCpu c, int p, long accesses, long s) throws Exception {
            cpu = c;
            pages = p;
            n = accesses;
            seed = s;
            start.await();
        }

        double await() throws Exception {
            end.await();
            if (failure != null) {
                throw new IllegalStateException("the second thread failed", failure);
            }
            return result;
        }

        void finish() throws Exception {
            stop = true;
            start.await();
        }

        @Override
        public void run() {
            try {
                while (true) {
                    start.await();
                    if (stop) {
                        return;
                    }
                    try {
                        result = loop(cpu, pages, n, seed);
                    } catch (Throwable e) {
                        failure = e;
                    }
                    end.await();
                }
            } catch (Exception e) {
                failure = e;
            }
        }
    }
}
