package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.guard.GuardMonitor;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/**
 * The plugin host survives its plugins, end to end in the framework: a tracker that throws is
 * contained, blamed and disabled; one that hangs is disabled after the configured timeout and
 * the vCPU goes on; a bundle that cannot resolve changes nothing, and plugin:list and
 * plugin:diag say all of it.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class PluginHostTest {
    static final String TEST_BSN = "org.shadowbox.itest-tests";

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    GuardMonitor guard;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    ConfigurationAdmin cm;

    private Vm vm;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @BeforeEach
    void createVm() {
        vm = Itest.newVm(hypervisor, "itest-host");
    }

    @AfterEach
    void cleanUp() {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // already gone
            }
        }
        Itest.destroyQuietly(hypervisor, vm);
    }

    private ServiceRegistration<PageTrackNotifier> register(PageTrackNotifier n) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(PageTrackNotifier.VM_PROPERTY, vm.name());
        ServiceRegistration<PageTrackNotifier> r = context.registerService(PageTrackNotifier.class, n, props);
        registrations.add(r);
        long id = Itest.serviceId(r);
        Itest.await("page track attaches the notifier", () -> Itest.attached(pageTrack, vm, id));
        return r;
    }

    private GuardRecord record(ServiceRegistration<PageTrackNotifier> r) {
        long id = Itest.serviceId(r);
        return guard.notifiers().stream().filter(g -> g.serviceId() == id).findFirst().orElseThrow();
    }

    @Test
    void aThrowingTrackerIsContainedBlamedAndDisabledAndPluginListSaysSo() throws Exception {
        List<Long> seen = Collections.synchronizedList(new ArrayList<>());
        register((v, cpu, gpa, value, bytes) -> seen.add(value));
        ServiceRegistration<PageTrackNotifier> bad = register((v, cpu, gpa, value, bytes) -> {
            throw new IllegalStateException("tracker bug at 0x" + Long.toHexString(gpa));
        });
        pageTrack.add(vm, 0x123, TrackMode.WRITE);
        for (int i = 0; i < 12; i++) {
            vm.vcpu(i & 1).emulatorWritePhys((0x123L << 12) + 8 * i, i, 8); // never throws to the vCPU
        }
        assertEquals(12, seen.size(), "the other tracker got every write");
        GuardRecord r = record(bad);
        assertEquals(TEST_BSN, r.bundle(), "blamed on the bundle that registered it");
        assertEquals(10, r.failures());
        assertEquals(10, r.calls(), "not called after it was disabled");
        assertTrue(r.disabled());
        assertEquals("failed 10 times (guard.maxFailures=10)", r.reason());
        assertTrue(r.lastError().contains("java.lang.IllegalStateException: tracker bug at 0x123048"), r.lastError());
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            String list = gogo.run("plugin:list --json");
            assertTrue(list.contains("\"bundle\":\"" + TEST_BSN + "\""), list);
            assertTrue(list.contains("disabled: failed 10 times (guard.maxFailures=10)"), list);
            String diag = gogo.run("plugin:diag " + TEST_BSN);
            assertTrue(diag.contains("disabled, failed 10 times"), diag);
        }
        pageTrack.remove(vm, 0x123, TrackMode.WRITE);
    }

    @Test
    @Timeout(60)
    void aHangingTrackerIsDisabledAfterTheTimeoutAndTheVcpuGoesOn() throws Exception {
        Configuration config = cm.getConfiguration("org.shadowbox.pagetrack", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("guard.timeoutMillis", 500L);
        config.update(props);
        try {
            Itest.await("the guard takes the 500 ms timeout", () -> guard.timeoutMillis() == 500);
            CountDownLatch never = new CountDownLatch(1);
            AtomicInteger calls = new AtomicInteger();
            AtomicInteger interrupted = new AtomicInteger();
            ServiceRegistration<PageTrackNotifier> hanging = register((v, cpu, gpa, value, bytes) -> {
                calls.incrementAndGet();
                try {
                    never.await();
                } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                    Thread.currentThread().interrupt();
                }
            });
            AtomicBoolean leftInterrupted = new AtomicBoolean(true);
            long[] took = new long[1];
            Thread vcpu = new Thread(() -> {
                long t0 = System.nanoTime();
                vm.vcpu(0).emulatorWritePhys(0x124L << 12, 1, 8);
                took[0] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                leftInterrupted.set(Thread.currentThread().isInterrupted());
                vm.vcpu(0).emulatorWritePhys(0x124L << 12, 2, 8); // goes on: the next write is not held
            }, "vcpu0-hang");
            vcpu.start();
            vcpu.join(10_000);
            assertFalse(vcpu.isAlive(), "the vCPU went on");
            assertTrue(took[0] >= 450, "it was held until the timeout: " + took[0] + " ms");
            assertFalse(leftInterrupted.get(), "the guard cleared the interrupt it made");
            assertEquals(1, interrupted.get());
            assertEquals(1, calls.get(), "disabled: not called for the second write");
            GuardRecord r = record(hanging);
            assertTrue(r.disabled());
            assertEquals(1, r.timeouts());
            assertEquals("did not return within 500 ms (vCPU 0 of VM " + vm.name() + ")", r.reason());
            try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
                assertTrue(gogo.run("plugin:list --json").contains("disabled: did not return within 500 ms"));
            }
            Thread unregister = new Thread(hanging::unregister);
            unregister.start();
            unregister.join(5_000);
            assertFalse(unregister.isAlive(), "unregistering returns: no call into it runs any more");
        } finally {
            config.delete();
            Itest.await("the default timeout is back", () -> guard.timeoutMillis() == 5000);
        }
    }

    @Test
    void aBundleThatCannotResolveChangesNothingAndDiagSaysWhy() throws Exception {
        String notifiersBefore = pageTrack.notifiers(vm).toString();
        String trackedBefore = pageTrack.tracked(vm).toString();
        int guardedBefore = guard.notifiers().size();
        String bsn = "com.example.unresolvable";
        byte[] jar = TrackerJars.unresolvable(bsn,
                "org.shadowbox.pagetrack;version=\"[3.0,4)\",org.shadowbox.nosuch;version=\"[1.0,2)\"");
        Bundle b = context.installBundle("itest:unresolvable-" + System.nanoTime(), new ByteArrayInputStream(jar));
        try {
            assertThrows(BundleException.class, b::start);
            assertEquals(Bundle.INSTALLED, b.getState());
            assertEquals(notifiersBefore, pageTrack.notifiers(vm).toString());
            assertEquals(trackedBefore, pageTrack.tracked(vm).toString());
            assertEquals(guardedBefore, guard.notifiers().size());
            try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
                String diag = gogo.run("plugin:diag " + bsn);
                assertTrue(diag.contains("missing package org.shadowbox.nosuch [1.0.0,2.0.0) (Import-Package): no bundle exports it"),
                        diag);
                assertTrue(diag.contains("missing package org.shadowbox.pagetrack [3.0.0,4.0.0) (Import-Package): exported are"
                        + " 2.1.0 from org.shadowbox.api"), diag);
                for (String line : diag.split("\n")) {
                    assertTrue(line.length() < 200, "one readable line each: " + line);
                }
                String list = gogo.run("plugin:list --json");
                assertTrue(list.contains("\"bundle\":\"" + bsn + "\""), list);
                assertTrue(list.contains("not active: see plugin:diag " + bsn), list);
                Exception e = assertThrows(Exception.class, () -> gogo.run("plugin:diag no.such.bundle"));
                assertEquals("no bundle 'no.such.bundle': accepted a symbolic name or an id that lb lists", e.getMessage());
            }
        } finally {
            b.uninstall();
        }
        if (b.getState() != Bundle.UNINSTALLED) {
            fail("uninstall failed");
        }
    }

    /**
     * A third-party bundle that imports a platform SPI package (the raw counters, the MMU lock,
     * the platform hooks) does not resolve, though the package is exported and the version
     * matches: the platform's resolver hook hides it from bundles outside the platform. Its
     * name does not help it: a bundle installed at run time is foreign even under a
     * Shadowbox-looking name. plugin:diag says why in one line.
     */
    @Test
    void aBundleThatImportsAPlatformSpiPackageDoesNotResolveAndDiagSaysWhy() throws Exception {
        for (String spi : new String[] {"org.shadowbox.vm.spi", "org.shadowbox.pagetrack.spi", "org.shadowbox.mmu.spi"}) {
            String bsn = "com.example.hostile." + spi.replace('.', '_');
            byte[] jar = TrackerJars.unresolvable(bsn, spi);
            Bundle b = context.installBundle("itest:hostile-" + System.nanoTime(), new ByteArrayInputStream(jar));
            try {
                assertThrows(BundleException.class, b::start, spi);
                assertEquals(Bundle.INSTALLED, b.getState(), spi);
                try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
                    String diag = gogo.run("plugin:diag " + b.getBundleId());
                    String line = "imports " + spi + ", a platform SPI package: refused to bundles outside the platform";
                    assertTrue(diag.contains(line), diag);
                    long lines = diag.lines().filter(l -> l.contains(spi)).count();
                    assertEquals(1, lines, "one line: " + diag);
                }
            } finally {
                b.uninstall();
            }
        }
        // The same imports resolve for the platform's own bundles: this test bundle is one.
        assertEquals(Bundle.ACTIVE, context.getBundle().getState());
    }
}
