package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.itest.cycletracker.CycleTracker;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * Lifecycle under load. Two vCPUs run kernel-build (on the MMU, interleaved by the guest's
 * scheduler on one thread) in VM {@code build} again and again, while a tracker bundle is
 * installed, started, stopped and uninstalled {@code shadowbox.itest.cycles} times (50 in
 * {@code mvn verify}; SHADOWBOX_ITEST_CYCLES=1000 for the full run), by the OSGi API and by
 * FileInstall drops in turn. The tracker write-tracks pages in both VMs; a writer thread drives
 * the vCPU of VM {@code writer}, storing a sequence number into the tracked pages.
 *
 * <p>Checked: every wait is bounded (no deadlock); each registration's deliveries are a
 * contiguous run of sequence numbers, each once, at the gpa it was written to, all inside the
 * registration (exactly once, nothing after unregister); after each cycle no track or notifier
 * of the tracker is left and the MMU's invariants hold (checked on the vCPU thread between
 * guest accesses); at the end every page's count is the MMU's alone, and every uninstalled
 * tracker's class loader is collected.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class LifecycleTest {
    static final String BSN = "com.example.cycletracker";
    static final long[] WRITER_GFNS = {0x120, 0x121, 0x122, 0x123};
    static final String BUILD_GFNS = "0x100,0x101,0x102,0x103,0x140,0x141";

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Mmu mmu;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    ScenarioRunner runner;

    /** Deliveries of the current registration: gpa, value pairs. */
    private final ConcurrentLinkedQueue<long[]> delivered = new ConcurrentLinkedQueue<>();
    /** Check requests served by the vCPU thread between guest accesses. */
    private final AtomicReference<CompletableFuture<List<String>>> checkRequest = new AtomicReference<>();

    @Test
    @Timeout(3600)
    void installStartStopUninstallUnderLoad() throws Exception {
        int cycles = Integer.parseInt(String.valueOf(context.getProperty("shadowbox.itest.cycles")));
        Vm build = hypervisor.createVm(VmSpec.pc("life-build-" + System.nanoTime() % 100000, 128L << 20, 2));
        Vm writer = hypervisor.createVm(VmSpec.pc("life-writer-" + System.nanoTime() % 100000, 16L << 20, 1));
        Path deploy = Path.of(context.getProperty("felix.fileinstall.dir"));
        Files.createDirectories(deploy);
        Dictionary<String, Object> probeProps = new Hashtable<>();
        probeProps.put("shadowbox.itest.probe", "cycle");
        BiConsumer<Long, Long> probe = (gpa, value) -> delivered.add(new long[] {gpa, value});
        var probeReg = context.registerService(BiConsumer.class, probe, probeProps);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> loadFailure = new AtomicReference<>();
        AtomicLong builds = new AtomicLong();
        Thread vcpus = new Thread(() -> {
            try {
                for (long seed = 1; !stop.get(); seed++) {
                    runner.run("kernel-build", build, i -> mmu.cpu(build, i), 1, seed, (done, total, accesses) -> serveCheck(build));
                    builds.incrementAndGet();
                }
            } catch (Throwable e) {
                loadFailure.set(e);
            }
        }, "life-vcpus");
        AtomicLong seq = new AtomicLong();
        Thread writes = new Thread(() -> {
            while (!stop.get()) {
                long s = seq.incrementAndGet();
                writer.vcpu(0).emulatorWritePhys(gpaOf(s), s, 8);
                LockSupport.parkNanos(20_000);
            }
        }, "life-writer");
        vcpus.start();
        writes.start();

        Map<String, String> headers = Map.of(CycleTracker.TRACK,
                build.name() + ":" + BUILD_GFNS + ";" + writer.name() + ":" + String.join(",",
                        Arrays.stream(WRITER_GFNS).mapToObj(g -> "0x" + Long.toHexString(g)).toList()),
                CycleTracker.WATCH, writer.name());
        List<WeakReference<ClassLoader>> loaders = new ArrayList<>();
        long totalDelivered = 0;
        long t0 = System.nanoTime();
        try {
            for (int c = 0; c < cycles; c++) {
                if (loadFailure.get() != null) {
                    fail("the kernel-build load failed at cycle " + c + ": " + loadFailure.get());
                }
                delivered.clear();
                long before = seq.get();
                byte[] jar = TrackerJars.cycleTracker(BSN, "1.0." + c, headers);
                boolean viaFileInstall = c % 2 == 1;
                Bundle b;
                Path dropped = deploy.resolve("cycletracker.jar");
                if (viaFileInstall) {
                    Path staged = Files.createTempFile(deploy.getParent(), "cycle", ".part");
                    Files.write(staged, jar);
                    Files.move(staged, dropped, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    Itest.await("cycle " + c + ": FileInstall starts the tracker", () -> active(BSN) != null);
                    b = active(BSN);
                } else {
                    b = context.installBundle("itest:cycle-" + c, new ByteArrayInputStream(jar));
                    b.start();
                }
                loaders.add(new WeakReference<>(b.adapt(BundleWiring.class).getClassLoader()));
                assertTracked(build, writer, true, c);
                long mid = seq.get();
                Itest.await("cycle " + c + ": writes reach the tracker", () -> seq.get() > mid + 3 && !delivered.isEmpty());
                if (viaFileInstall) {
                    Files.delete(dropped);
                    Bundle gone = b;
                    Itest.await("cycle " + c + ": FileInstall uninstalls the tracker", () -> gone.getState() == Bundle.UNINSTALLED);
                } else {
                    b.stop();
                    b.uninstall();
                }
                long after = seq.get();
                Itest.refresh(context);
                totalDelivered += checkDeliveries(c, before, after);
                assertTracked(build, writer, false, c);
                List<String> violations = checkOnVcpuThread(vcpus);
                assertEquals(List.of(), violations, "cycle " + c + ": the MMU's invariants");
            }
        } finally {
            stop.set(true);
            vcpus.join(120_000);
            writes.join(10_000);
            probeReg.unregister();
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertNull(loadFailure.get(), "kernel-build under the cycles: " + loadFailure.get());
        assertTrue(!vcpus.isAlive() && !writes.isAlive(), "the load threads ended");
        for (Vm vm : List.of(build, writer)) {
            for (TrackedPage p : pageTrack.tracked(vm)) {
                assertTrue(p.owners().keySet().stream().allMatch("org.shadowbox.mmu"::equals),
                        "afterwards only the MMU holds tracks: " + p);
                assertEquals(p.count(), p.owners().getOrDefault("org.shadowbox.mmu", 0), "counts are the MMU's alone: " + p);
            }
        }
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 10 && loaders.stream().anyMatch(w -> w.get() != null); i++) {
            System.gc();
            Thread.sleep(100);
        }
        long leaked = loaders.stream().filter(w -> w.get() != null).count();
        System.out.printf("lifecycle: %d cycles in %d ms (%.1f ms/cycle), %d kernel-builds, %d writes delivered,"
                + " %d of %d class loaders still reachable, heap used %d MiB%n", cycles, ms, (double) ms / cycles,
                builds.get(), totalDelivered, leaked, loaders.size(), (rt.totalMemory() - rt.freeMemory()) >> 20);
        assertEquals(0, leaked, "every uninstalled tracker's class loader was collected");
        assertTrue(builds.get() >= 1, "kernel-build ran during the cycles");
        hypervisor.destroyVm(build.name());
        hypervisor.destroyVm(writer.name());
    }

    static long gpaOf(long s) {
        return (WRITER_GFNS[(int) (s % WRITER_GFNS.length)] << 12) + 8 * (s % 512);
    }

    private Bundle active(String bsn) {
        for (Bundle b : Itest.bundles(context, bsn)) {
            if (b.getState() == Bundle.ACTIVE) {
                return b;
            }
        }
        return null;
    }

    private void assertTracked(Vm build, Vm writer, boolean present, int cycle) {
        for (Vm vm : List.of(build, writer)) {
            long mine = pageTrack.tracked(vm).stream().filter(p -> p.owners().containsKey(BSN)).count();
            long expected = present ? (vm == build ? 6 : WRITER_GFNS.length) : 0;
            assertEquals(expected, mine, "cycle " + cycle + ": tracks of the tracker in VM " + vm.name());
            if (!present) {
                assertTrue(pageTrack.notifiers(vm).stream().noneMatch(n -> n.bundle().equals(BSN)),
                        "cycle " + cycle + ": its notifier is detached");
            }
        }
    }

    /** Exactly once: a contiguous run of sequence numbers inside the registration, each once, at its gpa. */
    private long checkDeliveries(int cycle, long before, long after) {
        long[][] d = delivered.toArray(new long[0][]);
        if (d.length == 0) {
            fail("cycle " + cycle + ": nothing delivered");
        }
        long first = d[0][1];
        for (int i = 0; i < d.length; i++) {
            long v = d[i][1];
            assertEquals(first + i, v, "cycle " + cycle + ": delivery " + i + " (a gap is a lost write, a repeat a double one)");
            assertEquals(gpaOf(v), d[i][0], "cycle " + cycle + ": seq " + v + " at its gpa");
        }
        long last = d[d.length - 1][1];
        assertTrue(first > before && last <= after, "cycle " + cycle + ": deliveries " + first + ".." + last
                + " inside the registration (" + before + ", " + after + "]");
        return d.length;
    }

    /** Called on the vCPU thread between guest accesses: runs a requested MMU check there. */
    private void serveCheck(Vm vm) {
        CompletableFuture<List<String>> f = checkRequest.getAndSet(null);
        if (f != null) {
            try {
                f.complete(mmu.check(vm));
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }
    }

    private List<String> checkOnVcpuThread(Thread vcpus) throws Exception {
        CompletableFuture<List<String>> f = new CompletableFuture<>();
        checkRequest.set(f);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Itest.TIMEOUT_MS);
        while (!f.isDone()) {
            if (!vcpus.isAlive() || System.nanoTime() > deadline) {
                fail("the vCPU thread did not serve the MMU check (alive: " + vcpus.isAlive() + ")");
            }
            Thread.sleep(2);
        }
        return f.get();
    }
}
