package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

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
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The audit plugin, installed from the jar the build made, is used through its Gogo commands,
 * then stopped and uninstalled, and page track is left with none of its tracks.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class AuditBundleTest {

    private static final long GFN = 0x101;

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;

    private Vm vm;

    @BeforeEach
    void createVm() {
        vm = Itest.newVm(hypervisor, "itest-audit");
    }

    @AfterEach
    void destroyVm() {
        Itest.destroyQuietly(hypervisor, vm);
    }

    private Bundle installAudit() throws Exception {
        try (InputStream in = Files.newInputStream(Itest.auditJar(context))) {
            return context.installBundle("itest:audit-" + System.nanoTime(), in);
        }
    }

    @Test
    void installedUsedStoppedAndUninstalledWithItsTracksReleased() throws Exception {
        Bundle audit = installAudit();
        audit.start();
        assertEquals(Bundle.ACTIVE, audit.getState());
        Itest.await("the audit commands", () -> Itest.services(context, Itest.AUDIT_COMMANDS).length > 0);

        String name = vm.name();
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            assertEquals("watching gfn 0x101 of VM " + name + " (page-track count 1)", gogo.run("audit:watch " + name + " 0x101"));
            assertEquals("{\"vm\":\"" + name + "\",\"gfn\":42,\"watching\":true,\"trackCount\":1}",
                    gogo.run("audit:watch --json " + name + " 42"));
            assertTrue(pageTrack.isActive(vm, GFN, TrackMode.WRITE));
            assertEquals(1, pageTrack.count(vm, GFN, TrackMode.WRITE));
            TrackedPage page = pageTrack.tracked(vm).stream().filter(p -> p.gfn() == GFN).findFirst().orElseThrow();
            assertEquals(Map.of(Itest.AUDIT_BSN, 1), page.owners(), "the audit bundle owns the track");

            vm.vcpu(1).emulatorWritePhys((GFN << 12) | 8, 0xdeadbeefL, 4);
            vm.vcpu(0).emulatorWritePhys((GFN << 12) | 0xff8, -2L, 8);
            vm.vcpu(0).emulatorWritePhys((GFN + 1) << 12, 7, 8); // not watched
            vm.memory().write(GFN << 12, 9, 8);                  // host-side: nobody is told

            String log = gogo.run("audit:log --json " + name);
            assertTrue(log.startsWith("{\"vm\":\"" + name + "\",\"capacity\":10000,\"recorded\":2,\"dropped\":0,"
                    + "\"watched\":[42,257],\"entries\":[{\"seq\":1,"), log);
            assertTrue(log.contains("\"event\":\"write\",\"vcpu\":1,\"gpa\":1052680,\"size\":4,\"value\":3735928559}"), log);
            assertTrue(log.contains("\"event\":\"write\",\"vcpu\":0,\"gpa\":1056760,\"size\":8,\"value\":18446744073709551614}"), log);
            String text = gogo.run("audit:log " + name);
            assertTrue(text.startsWith("VM " + name + ": 2 recorded, 0 dropped (keeps 10000); watching 0x2a, 0x101"), text);
            assertTrue(text.contains("0x101008"), text);

            // Bad input: one line, nothing changed.
            assertOneLineError(gogo, "audit:watch no-such-vm 0x101", "no-such-vm");
            assertOneLineError(gogo, "audit:watch " + name + " 0x10g", "bad GFN '0x10g'");
            assertOneLineError(gogo, "audit:unwatch " + name + " 0x555", "is not watched");
            assertOneLineError(gogo, "audit:watch " + name + " 0x101", "already watched");
            assertOneLineError(gogo, "audit:watch " + name + " 0xa0", "0xa0"); // the legacy hole: no memslot
            assertEquals(1, pageTrack.count(vm, GFN, TrackMode.WRITE), "refused commands changed nothing");

            assertEquals("stopped watching gfn 0x2a of VM " + name + " (page-track count 0)", gogo.run("audit:unwatch " + name + " 0x2a"));
            assertFalse(pageTrack.isActive(vm, 42, TrackMode.WRITE));
        }

        audit.stop();
        assertEquals(0, pageTrack.count(vm, GFN, TrackMode.WRITE), "stopping the bundle released its tracks");
        assertFalse(pageTrack.isActive(vm, GFN, TrackMode.WRITE));
        assertTrue(pageTrack.notifiers(vm).stream().noneMatch(n -> Itest.AUDIT_BSN.equals(n.bundle())),
                "its notifier is detached: " + pageTrack.notifiers(vm));
        assertEquals(0, Itest.services(context, Itest.AUDIT_COMMANDS).length, "its commands are gone");
        vm.vcpu(0).emulatorWritePhys(GFN << 12, 1, 8); // nobody left to call: no failure

        audit.uninstall();
        assertEquals(Bundle.UNINSTALLED, audit.getState());
        assertTrue(Itest.bundles(context, Itest.AUDIT_BSN).isEmpty());
        assertTrue(pageTrack.tracked(vm).isEmpty(), "no track left: " + pageTrack.tracked(vm));
    }

    @Test
    void stoppingTheBundleReleasesTracksItNeverUnwatched() throws Exception {
        Bundle audit = installAudit();
        audit.start();
        Itest.await("the audit commands", () -> Itest.services(context, Itest.AUDIT_COMMANDS).length > 0);
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            for (long g = 0x200; g < 0x210; g++) {
                gogo.run("audit:watch " + vm.name() + " " + g);
            }
        }
        assertEquals(16, pageTrack.tracked(vm).size());
        audit.uninstall(); // stop and uninstall at once
        assertTrue(pageTrack.tracked(vm).isEmpty(), "no track left: " + pageTrack.tracked(vm));
        for (long g = 0x200; g < 0x210; g++) {
            assertFalse(pageTrack.isActive(vm, g, TrackMode.WRITE), "gfn " + g);
        }
    }

    @Test
    void aDeletedSlotTakesItsWatchedPagesWithItAndTheLogSaysSo() throws Exception {
        Bundle audit = installAudit();
        audit.start();
        Itest.await("the audit commands", () -> Itest.services(context, Itest.AUDIT_COMMANDS).length > 0);
        vm.createSlot(new SlotSpec(2, 0x10000, 0x100, 0));
        String name = vm.name();
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            gogo.run("audit:watch " + name + " 0x10010");
            gogo.run("audit:watch " + name + " 0x101");

            // KVM 6.6: no move while an external tracker holds tracked pages in the slot.
            assertThrows(VmException.class, () -> vm.moveSlot(2, 0x20000));
            vm.deleteSlot(2); // track_remove_region, delivered once

            String log = gogo.run("audit:log --json " + name);
            assertTrue(log.contains("\"watched\":[257],"), log);
            assertTrue(log.contains("\"event\":\"remove-region\",\"gfn\":65536,\"npages\":256,\"forgotten\":1}"), log);
            assertTrue(log.contains("\"recorded\":1,"), "delivered once: " + log);
            assertOneLineError(gogo, "audit:unwatch " + name + " 0x10010", "is not watched");
        }
        assertEquals(List.of(GFN), pageTrack.tracked(vm).stream().map(TrackedPage::gfn).toList());
        audit.stop(); // unwatches 0x101 only: nothing is left of the deleted slot to untrack
        assertTrue(pageTrack.tracked(vm).isEmpty(), "no track left: " + pageTrack.tracked(vm));
    }

    private static void assertOneLineError(Itest.Gogo gogo, String line, String mentions) {
        Exception e = assertThrows(Exception.class, () -> gogo.run(line), line);
        String msg = String.valueOf(e.getMessage());
        assertTrue(msg.contains(mentions), line + " -> " + msg);
        assertFalse(msg.contains("\n"), line + " -> one line: " + msg);
    }
}
