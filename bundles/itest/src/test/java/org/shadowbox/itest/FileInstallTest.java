package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/** Hot deploy as a user does it: drop the plugin jar into FileInstall's folder, use it, remove it. */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class FileInstallTest {

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;

    private Path deploy;
    private Vm vm;

    @BeforeEach
    void setUp() throws Exception {
        String dir = context.getProperty("felix.fileinstall.dir");
        assertNotNull(dir, "felix.fileinstall.dir is set by test.bndrun");
        deploy = Path.of(dir);
        Files.createDirectories(deploy);
        try (var files = Files.list(deploy)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.delete(p); // left over from an earlier run
            }
        }
        Itest.await("no audit bundle before the test", () -> Itest.bundles(context, Itest.AUDIT_BSN).isEmpty());
        vm = Itest.newVm(hypervisor, "itest-fi");
    }

    @AfterEach
    void tearDown() throws Exception {
        Files.deleteIfExists(deploy.resolve("shadowbox-audit.jar"));
        Itest.destroyQuietly(hypervisor, vm);
    }

    @Test
    void aDroppedJarIsInstalledStartedAndItsRemovalReleasesItsTracks() throws Exception {
        // Copy beside the folder, then move in at once, so FileInstall never sees half a jar.
        Path staged = Files.createTempFile(deploy.getParent(), "audit", ".part");
        Files.copy(Itest.auditJar(context), staged, StandardCopyOption.REPLACE_EXISTING);
        Path dropped = deploy.resolve("shadowbox-audit.jar");
        Files.move(staged, dropped, StandardCopyOption.ATOMIC_MOVE);

        Itest.await("FileInstall installs and starts the dropped jar", () -> {
            List<Bundle> b = Itest.bundles(context, Itest.AUDIT_BSN);
            return b.size() == 1 && b.get(0).getState() == Bundle.ACTIVE;
        });
        Bundle audit = Itest.bundles(context, Itest.AUDIT_BSN).get(0);
        assertTrue(audit.getLocation().contains("shadowbox-audit.jar"), audit.getLocation());
        Itest.await("the audit commands", () -> Itest.services(context, Itest.AUDIT_COMMANDS).length > 0);

        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            gogo.run("audit:watch " + vm.name() + " 0x3000");
        }
        assertTrue(pageTrack.isActive(vm, 0x3000, TrackMode.WRITE));
        vm.vcpu(0).emulatorWritePhys(0x3000L << 12, 0xab, 1);
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            assertTrue(gogo.run("audit:log --json " + vm.name()).contains("\"recorded\":1,"));
        }

        Files.delete(dropped);
        // Felix drops the bundle from getBundles() a moment before it marks it UNINSTALLED.
        Itest.await("FileInstall uninstalls the bundle whose jar was removed",
                () -> Itest.bundles(context, Itest.AUDIT_BSN).isEmpty() && audit.getState() == Bundle.UNINSTALLED);
        assertFalse(pageTrack.isActive(vm, 0x3000, TrackMode.WRITE), "its track was released");
        assertEquals(0, pageTrack.count(vm, 0x3000, TrackMode.WRITE));
        assertEquals(0, Itest.services(context, Itest.AUDIT_COMMANDS).length, "its commands are gone");
    }
}
