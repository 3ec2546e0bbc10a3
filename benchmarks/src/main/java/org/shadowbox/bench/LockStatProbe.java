package org.shadowbox.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.shadowbox.guest.internal.kernel.LockStats;
import org.shadowbox.mmu.internal.shadow.FlushWaitStats;
import org.shadowbox.vm.internal.MmuLockStats;

/**
 * Amdahl's serial fraction of an SMP kernel-build, from the guest kernel's lock statistics:
 * {@code KernelBuildBench}'s run (fresh 1 GiB VM of 4 vCPUs, shadow MMU unless {@code tdp} is
 * given, page tracking, default scale) on 2 host threads, a few warm-up runs, then the measured
 * ones with every lock class's hold and wait time summed. Prints, per class, the share of the threads' time (wall time x
 * threads) spent holding it; the classes every vCPU shares (the zone lock, the page cache's
 * lock, the tasklist lock) are what serializes the guest: with a share {@code s} of the work
 * serialized, two threads give at most {@code 1 / (s + (1 - s) / 2)}. Per-mm locks and the
 * page lists' locks are listed too (one per process, one per host thread; their waits say
 * whether they ever contend). The MMU's
 * {@code mmu_lock} ({@code MmuLockStats}) is listed after them: one per VM, taken by every vCPU
 * on a fault, an {@code invlpg} and a CR3 switch, it is serial work too, and the bound is given
 * with and without it. Then, for SMP runs, how much of their time the vCPU threads
 * were on a core (CPU time over wall time), runnable but waiting for one (Linux's schedstat) and
 * idle on the guest's run queue, which of the JVM's other threads (the JIT's compilers, the
 * collector) had a core meanwhile, and how often and how long the shadow MMU's remote TLB flushes
 * waited for a vCPU to leave guest mode, and how long they took to post their requests
 * ({@code FlushWaitStats}).
 *
 * Warm-up: after 6 runs the JIT's C2 compiler still took 1.6 to 2.1 s of CPU in the next 8 (5
 * s), a core the vCPU threads then waited for 18 to 20% of their time; after 20 runs, 0.2 to 1.4
 * s (4 to 15%). The default is 20; the line of the JVM's other threads says what is left.
 *
 * <p>With {@code -Dshadowbox.lockstat.sites=true} as well, the long sections of {@code mmu_lock} (over
 * 10 microseconds) are listed by where they were held ({@link MmuLockStats#SITES}).
 *
 * <pre>java -Dshadowbox.lockstat=true [-Dshadowbox.lockstat.sites=true] -cp benchmarks/target/benchmarks.jar org.shadowbox.bench.LockStatProbe [WARMUP] [RUNS] [THREADS] [shadow|tdp]</pre>
 */
public final class LockStatProbe {
    private LockStatProbe() {
    }

    public static void main(String[] args) {
        if (!LockStats.STATS) {
            System.err.println("LockStatProbe: run it with -Dshadowbox.lockstat=true (the diagnostic mode)");
            System.exit(2);
        }
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        String mmu = args.length > 3 ? args[3] : "shadow";
        if (!mmu.equals("shadow") && !mmu.equals("tdp")) {
            System.err.println("LockStatProbe: the MMU is shadow or tdp, got '" + mmu + "'");
            System.exit(2);
        }
        MmuSandbox sandbox = new MmuSandbox(0);
        // Read once before the warm-up: the first listing of /proc/self/task loads classes
        // (ReentrantReadWriteLock's among them) that invalidate the JIT's code of every method
        // that inlined ReentrantLock's (the guest's locks): loaded at the start of the measured
        // runs, they made C2 recompile the guest's lock paths during them.
        otherThreadsCpu();
        ManagementFactory.getRuntimeMXBean().getUptime();
        for (int i = 0; i < warmup; i++) {
            KernelBuildBench.run(sandbox, "warm" + i, 4, threads, mmu);
        }
        LockStats.reset();
        FlushWaitStats.reset();
        MmuLockStats.reset();
        Map<String, Long> others0 = otherThreadsCpu();
        long up0 = ManagementFactory.getRuntimeMXBean().getUptime();
        long accesses = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            accesses += KernelBuildBench.run(sandbox, "probe" + i, 4, threads, mmu);
        }
        long wall = System.nanoTime() - t0;
        Map<String, Long> others = otherThreadsCpu();
        long up1 = ManagementFactory.getRuntimeMXBean().getUptime();
        double threadNanos = (double) wall * threads;
        System.out.printf("kernel-build, %s MMU, 4 vCPUs on %d threads, %d runs after %d warm-up: %.3f s wall, %.1f million accesses/s%n",
                mmu, threads, runs, warmup, wall / 1e9, accesses / (wall / 1e3));
        System.out.printf("measured runs: JVM uptime %d to %d ms (to place a -XX:+PrintCompilation log)%n", up0, up1);
        System.out.printf("%-18s %14s %12s %12s %12s %9s %9s%n", "lock class", "acquisitions", "contended", "held ms",
                "waited ms", "held %", "waited %");
        double shared = 0;
        for (LockStats.Row r : LockStats.read()) {
            double held = 100 * r.heldNanos() / threadNanos;
            double waited = 100 * r.waitNanos() / threadNanos;
            System.out.printf("%-18s %14d %12d %12.1f %12.1f %8.2f%% %8.2f%%%n", r.lockClass(), r.acquisitions(),
                    r.contentions(), r.heldNanos() / 1e6, r.waitNanos() / 1e6, held, waited);
            if (!r.lockClass().equals("mmap_lock") && !r.lockClass().equals("page_table_lock")
                    && !r.lockClass().equals("pcp lock")) { // one per mm, one per host thread's page list
                shared += r.heldNanos() / threadNanos;
            }
        }
        MmuLockStats.Row m = MmuLockStats.read();
        System.out.printf("%-18s %14d %12d %12.1f %12.1f %8.2f%% %8.2f%%%n", "mmu_lock", m.acquisitions(), m.contended(),
                m.heldNanos() / 1e6, m.waitNanos() / 1e6, 100 * m.heldNanos() / threadNanos, 100 * m.waitNanos() / threadNanos);
        System.out.printf("mmu_lock: %d sections held over %d us (%.1f ms of the %.1f held); waiters slept %d times%n",
                m.longHolds(), MmuLockStats.LONG_NANOS / 1000, m.longHeldNanos() / 1e6, m.heldNanos() / 1e6, m.sleeps());
        double withMmu = shared + m.heldNanos() / threadNanos;
        System.out.printf("serial fraction from the shared guest locks: %.2f%%; Amdahl's bound for 2 threads: %.2f x%n",
                100 * shared, 1 / (shared + (1 - shared) / 2));
        System.out.printf("with mmu_lock: %.2f%%; Amdahl's bound for 2 threads: %.2f x%n", 100 * withMmu,
                1 / (withMmu + (1 - withMmu) / 2));
        LockStats.Threads t = LockStats.threads();
        if (t.wallNanos() > 0) {
            System.out.printf("vCPU threads: %.1f%% of their time on a core (CPU time / wall), %s, %.2f%% idle on the guest's run queue (%d waits); %d processes migrated to the other thread (%d per run)%n",
                    100.0 * t.cpuNanos() / t.wallNanos(),
                    t.runDelayNanos() < 0 ? "time waiting for a core unknown"
                            : String.format("%.1f%% runnable but waiting for a core", 100.0 * t.runDelayNanos() / t.wallNanos()),
                    100.0 * t.idleNanos() / t.wallNanos(), t.idleWaits(), t.migrations(), t.migrations() / Math.max(1, runs));
        }
        if (!others.isEmpty()) {
            StringBuilder b = new StringBuilder("the JVM's other threads on a core in the measured runs (ms):");
            others.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - others0.getOrDefault(e.getKey(), 0L)))
                    .filter(e -> e.getValue() >= 1_000_000).sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
                    .forEach(e -> b.append(String.format(" %s %.0f,", e.getKey(), e.getValue() / 1e6)));
            System.out.println(b.charAt(b.length() - 1) == ',' ? b.substring(0, b.length() - 1) : b + " none over 1 ms");
        }
        FlushWaitStats.Row f = FlushWaitStats.read();
        System.out.printf("remote TLB flushes: %d (%d per run), %d waited over %d ns for a vCPU in guest mode; waited %.2f ms in all, %.3f%% of the threads' time; posting the requests %.2f ms, %.3f%%%n",
                f.flushes(), f.flushes() / Math.max(1, runs), f.slow(), FlushWaitStats.SLOW_NANOS, f.waitNanos() / 1e6,
                100 * f.waitNanos() / threadNanos, f.postNanos() / 1e6, 100 * f.postNanos() / threadNanos);
        if (MmuLockStats.SITES) {
            System.out.println("mmu_lock's long sections by where they were held (the releasing method < its callers):");
            System.out.printf("%10s %10s %9s  %s%n", "sections", "held ms", "mean us", "site");
            for (MmuLockStats.Site s : MmuLockStats.sites().subList(0, Math.min(12, MmuLockStats.sites().size()))) {
                System.out.printf("%10d %10.1f %9.1f  %s%n", s.sections(), s.nanos() / 1e6, s.nanos() / 1e3 / s.sections(),
                        s.site());
            }
        }
    }

    /**
     * On-core time of this JVM's threads other than the vCPU threads, by name (trailing digits
     * dropped, so the compiler and collector threads are summed by kind), from Linux's
     * {@code /proc/self/task/<tid>/schedstat}; empty where that cannot be read. Threads that
     * ended in between are not counted.
     */
    private static Map<String, Long> otherThreadsCpu() {
        Map<String, Long> m = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+$", "");
                    if (name.equals("java") || name.startsWith("shadowbox-guest-vcp")) {
                        continue; // the vCPU threads (comm is cut at 15 characters)
                    }
                    String stat = Files.readString(task.resolve("schedstat")).trim();
                    m.merge(name, Long.parseLong(stat.substring(0, stat.indexOf(' '))), Long::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended while we looked
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return m;
    }
}
