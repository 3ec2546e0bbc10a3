package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.itest.cycletracker.CycleTracker;
import org.shadowbox.pagetrack.Owner;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.pagetrack.guard.GuardMonitor;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * Issue 14's identity rules, in a real framework (docs/trust-model.md): owners are bundles (id
 * and location), never symbolic names; {@code org.shadowbox.*} names belong to the platform's
 * own jars; and the one thing OSGi without a security manager cannot stop, a bundle acting
 * through another bundle's context, shown as the documented limit.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class TrustModelTest {
    static final String SHELL_BSN = "org.shadowbox.shell";
    static final String TWIN_BSN = "com.example.twin";

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    GuardMonitor guard;

    private Vm vm;
    private final List<Bundle> installed = new ArrayList<>();

    @BeforeEach
    void createVm() {
        vm = Itest.newVm(hypervisor, "itest-trust");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Bundle b : installed) {
            if (b.getState() != Bundle.UNINSTALLED) {
                b.uninstall();
            }
        }
        Itest.refresh(context);
        Itest.destroyQuietly(hypervisor, vm);
    }

    private Bundle install(String what, byte[] jar) throws BundleException {
        Bundle b = context.installBundle("itest:trust-" + what + "-" + System.nanoTime(), new ByteArrayInputStream(jar));
        installed.add(b);
        return b;
    }

    private Bundle bundle(String bsn) {
        return Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())
                && b.getState() == Bundle.ACTIVE).findFirst().orElseThrow(() -> new AssertionError("no active " + bsn));
    }

    /**
     * The hostile bundle of issue 14: a third-party org.shadowbox.shell 9.9.9. It installs (OSGi
     * has no hook that vetoes an install) but never resolves, so none of its code runs; plugin:diag
     * gives the reason in one line and plugin:list shows it apart from the real shell, refused.
     */
    @Test
    void aForeignBundleUnderAShadowboxNameIsRefused() throws Exception {
        Bundle fake = install("fake-shell", TrackerJars.named(SHELL_BSN, "9.9.9",
                "org.shadowbox.pagetrack;version=\"[2.0,3)\",org.shadowbox.vm;version=\"[3.0,4)\""));
        assertThrows(BundleException.class, fake::start);
        assertEquals(Bundle.INSTALLED, fake.getState(), "refused: never resolved");
        Bundle shell = bundle(SHELL_BSN);
        assertNotEquals(shell.getBundleId(), fake.getBundleId());
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            String diag = gogo.run("plugin:diag " + fake.getBundleId());
            String line = "symbolic name org.shadowbox.shell is reserved to the platform's own jars";
            assertTrue(diag.contains(line), diag);
            assertEquals(1, diag.lines().filter(l -> l.contains("reserved")).count(), "one line: " + diag);
            String list = gogo.run("plugin:list --json");
            assertTrue(list.contains("\"id\":" + fake.getBundleId()), list);
            assertTrue(list.contains("refused: reserved symbolic name, see plugin:diag " + fake.getBundleId()), list);
            assertTrue(gogo.run("plugin:diag " + shell.getBundleId()).lines().noneMatch(l -> l.contains("reserved")),
                    "the real shell is not refused");
        }
    }

    /**
     * "The platform's own jars" is decided by content: the audit tracker the build ships installs
     * and starts under its org.shadowbox name; the same jar with one entry added does not.
     */
    @Test
    void aShippedTrackerJarIsAcceptedAndAnAlteredCopyIsRefused() throws Exception {
        byte[] shipped = Files.readAllBytes(Itest.auditJar(context));
        Bundle audit = install("audit", shipped);
        audit.start();
        assertEquals(Bundle.ACTIVE, audit.getState(), "the shipped jar is the platform's own");
        audit.uninstall();

        Bundle altered = install("audit-altered", withExtraEntry(shipped));
        assertThrows(BundleException.class, altered::start);
        assertEquals(Bundle.INSTALLED, altered.getState());
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            String diag = gogo.run("plugin:diag " + altered.getBundleId());
            assertTrue(diag.contains("symbolic name " + Itest.AUDIT_BSN + " is reserved"), diag);
        }
    }

    private static byte[] withExtraEntry(byte[] jar) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar));
                JarOutputStream out = new JarOutputStream(bytes, in.getManifest())) {
            for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                out.putNextEntry(new JarEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("extra.txt"));
            out.write("not shipped".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return bytes.toByteArray();
    }

    /**
     * Two bundles with one symbolic name (two versions of a third-party tracker) track the same
     * gfn: page track keeps two owners, by bundle id and location; track:list and plugin:list
     * show them apart; when one stops, only its track goes.
     */
    @Test
    void twoBundlesOfOneNameKeepTheirTracksApart() throws Exception {
        ServiceRegistration<?> probe = context.registerService(BiConsumer.class.getName(),
                (BiConsumer<Long, Long>) (gpa, value) -> { }, new Hashtable<>(Map.of("shadowbox.itest.probe", "cycle")));
        try {
            Map<String, String> headers = Map.of(CycleTracker.TRACK, vm.name() + ":0x1234", CycleTracker.WATCH, vm.name());
            Bundle first = install("twin-1", TrackerJars.cycleTracker(TWIN_BSN, "1.0.0", headers));
            Bundle second = install("twin-2", TrackerJars.cycleTracker(TWIN_BSN, "2.0.0", headers));
            first.start();
            second.start();
            TrackedPage page = pageTrack.tracked(vm).stream().filter(p -> p.gfn() == 0x1234).findFirst().orElseThrow();
            assertEquals(2, page.count());
            assertEquals(Map.of(TWIN_BSN, 2), page.owners(), "by name they add up");
            Owner one = new Owner(first.getBundleId(), first.getLocation(), TWIN_BSN);
            Owner two = new Owner(second.getBundleId(), second.getLocation(), TWIN_BSN);
            assertEquals(List.of(new TrackedPage.Holder(one, 1), new TrackedPage.Holder(two, 1)), page.holders(),
                    "by bundle they are apart");
            assertEquals(List.of(first.getBundleId(), second.getBundleId()), guard.notifiers().stream()
                    .filter(r -> r.bundle().equals(TWIN_BSN)).map(GuardRecord::bundleId).sorted().toList(),
                    "the guard tells their notifiers apart too");
            try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
                String tracks = gogo.run("track:list " + vm.name());
                assertTrue(tracks.contains(TWIN_BSN + " [" + first.getBundleId() + "]=1"), tracks);
                assertTrue(tracks.contains(TWIN_BSN + " [" + second.getBundleId() + "]=1"), tracks);
                String list = gogo.run("plugin:list --json");
                for (Bundle b : List.of(first, second)) {
                    assertTrue(list.matches("(?s).*\"id\":" + b.getBundleId() + ",[^}]*\"tracked\":1,.*"), list);
                }
            }
            first.stop();
            page = pageTrack.tracked(vm).stream().filter(p -> p.gfn() == 0x1234).findFirst().orElseThrow();
            assertEquals(List.of(new TrackedPage.Holder(two, 1)), page.holders(), "only the stopped bundle's track went");
            assertEquals(1, page.count());
        } finally {
            probe.unregister();
        }
    }

    /**
     * The documented limit (docs/trust-model.md): a bundle cannot remove another bundle's track
     * through its own PageTrack, but Bundle.getBundleContext() is public, and through the shell's
     * context a bundle gets the shell's own PageTrack instance and acts as the shell. Without a
     * security manager (AdminPermission[CONTEXT]) OSGi cannot refuse that call; the sandbox's
     * answer is that the act is the shell's owner's, visible as such.
     */
    @Test
    void aBorrowedContextActsAsItsOwnerTheDocumentedLimit() throws Exception {
        Bundle shell = bundle(SHELL_BSN);
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            gogo.run("track:add " + vm.name() + " 0x1234");
        }
        Owner shellOwner = new Owner(shell.getBundleId(), shell.getLocation(), SHELL_BSN);
        assertEquals(1, pageTrack.count(vm, 0x1234, TrackMode.WRITE));

        VmException refused = assertThrows(VmException.class, () -> pageTrack.remove(vm, 0x1234, TrackMode.WRITE));
        assertTrue(refused.getMessage().contains("holds no write track of gfn 0x1234"), refused.getMessage());
        assertEquals(1, pageTrack.count(vm, 0x1234, TrackMode.WRITE), "our own PageTrack cannot remove it");

        BundleContext borrowed = shell.getBundleContext();
        ServiceReference<PageTrack> ref = borrowed.getServiceReference(PageTrack.class);
        PageTrack shells = borrowed.getService(ref);
        try {
            assertEquals(shellOwner, shells.ownerBundle(), "the borrowed instance is the shell's");
            assertTrue(shells.remove(vm, 0x1234, TrackMode.WRITE), "the limit: OSGi lets the borrowed context act");
            assertEquals(0, pageTrack.count(vm, 0x1234, TrackMode.WRITE));
        } finally {
            borrowed.ungetService(ref);
        }
    }

}
