package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/** What the in-framework tests share: bounded waits, VMs of their own, Gogo sessions. */
final class Itest {

    /** Long enough for SCR and FileInstall (polling every 100 ms) on a busy 2-core machine. */
    static final long TIMEOUT_MS = 20_000;

    static final String AUDIT_BSN = "org.shadowbox.audit";
    static final String AUDIT_COMMANDS = "(osgi.command.scope=audit)";

    private static final AtomicInteger VMS = new AtomicInteger();

    private Itest() {
    }

    /** Waits until {@code condition} holds, failing with {@code what} after {@link #TIMEOUT_MS}. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + TIMEOUT_MS + " ms waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for: " + what);
            }
        }
    }

    /** A fresh PC-style VM (64 MiB: gfn 0x0-0x9f and 0x100-0x3fff, 2 vCPUs) with a unique name. */
    static Vm newVm(Hypervisor hypervisor, String prefix) {
        return hypervisor.createVm(VmSpec.pc(prefix + "-" + VMS.incrementAndGet(), 64L << 20, 2));
    }

    static void destroyQuietly(Hypervisor hypervisor, Vm vm) {
        if (vm != null && !vm.destroyed()) {
            hypervisor.destroyVm(vm.name());
        }
    }

    /** True once page track has attached the notifier registered with this service id to the VM. */
    static boolean attached(org.shadowbox.pagetrack.PageTrack pageTrack, Vm vm, long serviceId) {
        return pageTrack.notifiers(vm).stream().anyMatch(n -> n.serviceId() == serviceId);
    }

    static long serviceId(org.osgi.framework.ServiceRegistration<PageTrackNotifier> reg) {
        return (Long) reg.getReference().getProperty(org.osgi.framework.Constants.SERVICE_ID);
    }

    /** The bundles installed with that symbolic name. */
    static List<Bundle> bundles(BundleContext context, String bsn) {
        List<Bundle> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                out.add(b);
            }
        }
        return out;
    }

    /** The services registered with that filter, whatever their type. */
    static ServiceReference<?>[] services(BundleContext context, String filter) {
        try {
            ServiceReference<?>[] refs = context.getAllServiceReferences(null, filter);
            return refs == null ? new ServiceReference<?>[0] : refs;
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(filter, e);
        }
    }

    /** The audit bundle jar built by the reactor (see test.bndrun and pom.xml). */
    static java.nio.file.Path auditJar(BundleContext context) {
        String path = context.getProperty("shadowbox.itest.audit.jar");
        java.nio.file.Path p = java.nio.file.Path.of(path == null ? "" : path);
        if (path == null || !java.nio.file.Files.isRegularFile(p)) {
            fail("the audit jar is missing: shadowbox.itest.audit.jar=" + path + " (build with -am)");
        }
        return p;
    }

    /** The gpu bundle jar built by the reactor (see test.bndrun and pom.xml). */
    static java.nio.file.Path gpuJar(BundleContext context) {
        String path = context.getProperty("shadowbox.itest.gpu.jar");
        java.nio.file.Path p = java.nio.file.Path.of(path == null ? "" : path);
        if (path == null || !java.nio.file.Files.isRegularFile(p)) {
            fail("the gpu jar is missing: shadowbox.itest.gpu.jar=" + path + " (build with -am)");
        }
        return p;
    }

    /**
     * {@code FrameworkWiring.refreshBundles} of what is pending removal, waiting (bounded) for it
     * to finish, so that uninstalled bundles' revisions and class loaders are let go.
     */
    static void refresh(BundleContext context) {
        org.osgi.framework.wiring.FrameworkWiring fw = context.getBundle(org.osgi.framework.Constants.SYSTEM_BUNDLE_LOCATION)
                .adapt(org.osgi.framework.wiring.FrameworkWiring.class);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        fw.refreshBundles(null, e -> done.countDown());
        try {
            if (!done.await(TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                fail("refreshBundles did not finish in " + TIMEOUT_MS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted waiting for refreshBundles");
        }
    }

    /** A Gogo session whose command output is captured, as a script in the shell would run them. */
    static final class Gogo implements AutoCloseable {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CommandSession session;

        Gogo(CommandProcessor processor) {
            session = processor.createSession(InputStream.nullInputStream(), out, out);
        }

        /** Runs one command line and returns its result as text (what the shell would print). */
        String run(String line) throws Exception {
            Object r = session.execute(line);
            return r == null ? "" : r.toString();
        }

        String output() {
            return out.toString(StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
