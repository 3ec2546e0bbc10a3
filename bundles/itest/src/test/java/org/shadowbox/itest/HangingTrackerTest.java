package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
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
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.pagetrack.guard.GuardMonitor;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/**
 * A tracker bundle whose callback loops forever, deaf to interrupts ({@code SpinTracker}), in the
 * framework. Isolated ({@code plugin:isolate}), its call runs on a courier thread that the vCPU
 * leaves behind at the timeout; not isolated, it keeps its vCPU thread. Either way it is disabled,
 * and the bundle can be stopped and uninstalled: unregistering does not wait for an abandoned call.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class HangingTrackerTest {
    static final String BSN = "com.example.spinner";

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    GuardMonitor guard;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    ConfigurationAdmin cm;

    private Vm vm;
    private Configuration config;
    private final AtomicInteger entered = new AtomicInteger();
    private final AtomicBoolean release = new AtomicBoolean();
    private final List<ServiceRegistration<?>> probes = new ArrayList<>();
    private Bundle spinner;

    @BeforeEach
    void setUp() throws Exception {
        vm = Itest.newVm(hypervisor, "itest-spin");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("shadowbox.itest.probe", "spin");
        probes.add(context.registerService(AtomicInteger.class, entered, props));
        probes.add(context.registerService(AtomicBoolean.class, release, props));
        config = cm.getConfiguration("org.shadowbox.pagetrack", "?");
        Dictionary<String, Object> guardProps = new Hashtable<>();
        guardProps.put("guard.timeoutMillis", 300L);
        config.update(guardProps);
        Itest.await("the guard takes the 300 ms timeout", () -> guard.timeoutMillis() == 300);
    }

    @AfterEach
    void tearDown() throws Exception {
        release.set(true); // every loop ends, so no thread outlives the test
        if (spinner != null && spinner.getState() != Bundle.UNINSTALLED) {
            spinner.uninstall();
        }
        probes.forEach(ServiceRegistration::unregister);
        Itest.destroyQuietly(hypervisor, vm);
        config.delete();
        Itest.await("the defaults are back", () -> guard.timeoutMillis() == 5000 && guard.isolate().isEmpty());
    }

    private void installSpinner() throws Exception {
        spinner = context.installBundle("itest:spinner-" + System.nanoTime(),
                new ByteArrayInputStream(TrackerJars.spinTracker(BSN, vm.name())));
        spinner.start();
        Itest.await("its notifier is attached", () -> record().isPresent());
    }

    private Optional<GuardRecord> record() {
        return guard.notifiers().stream().filter(r -> r.bundle().equals(BSN)).findFirst();
    }

    private String abandonedCourier() {
        return "shadowbox-courier VM " + vm.name() + " vCPU 0 (abandoned in bundle " + BSN + ")";
    }

    /** Writes on vCPU 0 from a thread of its own, which it returns (maybe still stuck). */
    private Thread write(long value) {
        Thread t = new Thread(() -> vm.vcpu(0).emulatorWritePhys(0x125L << 12, value, 8), "vcpu0-spin");
        t.start();
        return t;
    }

    /** Runs {@code action} on a thread and asserts it completes within 10 s: no hang. */
    private static void completes(String what, Runnable action) throws InterruptedException {
        Thread t = new Thread(action, what);
        t.start();
        t.join(10_000);
        assertFalse(t.isAlive(), what + " hung");
    }

    private void stopAndUninstall() throws InterruptedException {
        completes("stopping the spinner bundle", () -> {
            try {
                spinner.stop();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(Bundle.RESOLVED, spinner.getState());
        assertTrue(record().isEmpty(), "its notifier is gone");
        completes("uninstalling it", () -> {
            try {
                spinner.uninstall();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(Bundle.UNINSTALLED, spinner.getState());
    }

    @Test
    @Timeout(90)
    void isolatedTheVcpuGoesOnAndTheBundleStopsAndUninstalls() throws Exception {
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            Exception bad = assertThrows(Exception.class, () -> gogo.run("plugin:isolate bad/name"));
            assertEquals("not a bundle id or symbolic name: 'bad/name': accepted a bundle id (plugin:list), a symbolic"
                    + " name (com.example.tracker) or *", bad.getMessage());
            Exception noId = assertThrows(Exception.class, () -> gogo.run("plugin:isolate 999999"));
            assertEquals("no installed bundle has id 999999: accepted the id of an installed bundle (plugin:list), a"
                    + " symbolic name, or *", noId.getMessage());
            String set = gogo.run("plugin:isolate --pending --json " + BSN);
            assertTrue(set.contains("\"isolate\":[\"" + BSN + "\"]") && set.contains("\"inForce\":true") && set.contains("\"pending\":true"), set);
        }
        assertEquals(List.of(BSN), guard.isolate());
        installSpinner();
        assertTrue(record().orElseThrow().isolated());
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            // By id, as plugin:list and plugin:diag take it: the same setting, now for an installed bundle.
            String byId = gogo.run("plugin:isolate --json " + spinner.getBundleId());
            assertTrue(byId.contains("\"bundle\":\"" + BSN + "\"") && byId.contains("\"isolate\":[\"" + BSN + "\"]")
                    && byId.contains("\"pending\":false"), byId);
        }

        long t0 = System.nanoTime();
        Thread vcpu = write(1);
        vcpu.join(10_000);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertFalse(vcpu.isAlive(), "the vCPU went on");
        assertTrue(ms >= 250, "it waited for the timeout: " + ms + " ms");
        assertEquals(1, entered.get());
        GuardRecord r = record().orElseThrow();
        assertTrue(r.disabled());
        assertEquals(1, r.timeouts());
        assertEquals(1, r.abandoned(), "the courier thread is left behind, counted");
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(abandonedCourier())));
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            String list = gogo.run("plugin:list --json");
            assertTrue(list.contains("\"mode\":\"isolated\""), list);
            assertTrue(list.contains("1 abandoned call(s) still running on courier threads"), list);
            String diag = gogo.run("plugin:diag " + BSN);
            assertTrue(diag.contains("isolated (guard.isolate: called on courier threads)"), diag);
            assertTrue(diag.contains("1 call(s) timed out and abandoned still run on courier threads left behind"), diag);
        }
        completes("a second write", () -> vm.vcpu(0).emulatorWritePhys(0x125L << 12, 2, 8));
        assertEquals(1, entered.get(), "disabled: not called again");

        stopAndUninstall();
        release.set(true);
        Itest.await("the abandoned courier ends once its call returns", () -> Thread.getAllStackTraces().keySet()
                .stream().noneMatch(t -> t.getName().equals(abandonedCourier())));
    }

    @Test
    @Timeout(90)
    void notIsolatedItKeepsItsVcpuButIsDisabledAndTheBundleStillStopsAndUninstalls() throws Exception {
        installSpinner();
        assertFalse(record().orElseThrow().isolated());
        Thread vcpu = write(1);
        Itest.await("the watchdog abandons the call", () -> record().orElseThrow().abandoned() == 1);
        GuardRecord r = record().orElseThrow();
        assertTrue(r.disabled());
        assertEquals("did not return within 300 ms (vCPU 0 of VM " + vm.name() + ")", r.reason());
        assertEquals(1, r.running(), "a direct call that ignores interrupts keeps its vCPU thread");
        assertTrue(vcpu.isAlive());
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            String list = gogo.run("plugin:list --json");
            assertTrue(list.contains("\"mode\":\"direct\""), list);
            assertTrue(list.contains("holding vCPU threads (isolate it: plugin:isolate " + BSN + ")"), list);
        }

        stopAndUninstall(); // the framework's stop does not wait for the abandoned call
        assertTrue(vcpu.isAlive(), "still stuck");
        release.set(true);
        vcpu.join(10_000);
        assertFalse(vcpu.isAlive(), "the vCPU goes on once the call returns");
        completes("a write after it", () -> vm.vcpu(0).emulatorWritePhys(0x125L << 12, 2, 8));
        assertEquals(1, entered.get(), "the uninstalled tracker is never called again");
    }
}
