package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.pagetrack.spi.WriteProtectHook;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.spi.VmListener;

/**
 * The mmu bundle in a real framework: its services, its tracks in page track (owner
 * org.shadowbox.mmu, role MMU, so a slot move is not refused for them), and a stop that
 * releases every track while the VM runs on, then a start that rebuilds.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class MmuBundleTest {

    static final String MMU_BSN = "org.shadowbox.mmu";
    static final long PML4 = 0x200, PDPT = 0x201, PD = 0x202, PT = 0x203, DATA = 0x300;

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
        vm = Itest.newVm(hypervisor, "itest-mmu");
        // host-side: gva 0x400000 -> DATA through PML4, PDPT, PD, PT
        pte(PML4, 0, (PDPT << 12) | 7);
        pte(PDPT, 0, (PD << 12) | 7);
        pte(PD, 2, (PT << 12) | 7);
        pte(PT, 0, (DATA << 12) | 7);
        vm.memory().write(DATA << 12, 0x5a5a, 8);
        vm.vcpu(0).set(Register.CR3, PML4 << 12);
    }

    @AfterEach
    void destroyVm() throws Exception {
        Bundle mmu = mmuBundle();
        if (mmu.getState() != Bundle.ACTIVE) {
            mmu.start();
        }
        Itest.destroyQuietly(hypervisor, vm);
    }

    private void pte(long table, int index, long value) {
        vm.memory().write((table << 12) + 8L * index, value, 8);
    }

    private Bundle mmuBundle() {
        return Itest.bundles(context, MMU_BSN).get(0);
    }

    private Mmu mmu() {
        Itest.await("the Mmu service", () -> context.getServiceReference(Mmu.class) != null);
        return context.getService(context.getServiceReference(Mmu.class));
    }

    /** The gfns the MMU holds write tracks on. */
    private Set<Long> mmuTracks() {
        Set<Long> out = new TreeSet<>();
        for (TrackedPage p : pageTrack.tracked(vm)) {
            if (p.owners().containsKey(MMU_BSN)) {
                out.add(p.gfn());
            }
        }
        return out;
    }

    @Test
    void theMmuBundleProvidesTheMmuAndPageTracksHooks() {
        for (Class<?> type : new Class<?>[] {Mmu.class, WriteProtectHook.class, PageTrackNotifier.class,
                VmListener.class}) {
            boolean found = false;
            for (ServiceReference<?> ref : Itest.services(context, "(objectClass=" + type.getName() + ")")) {
                found |= MMU_BSN.equals(ref.getBundle().getSymbolicName());
            }
            assertTrue(found, type.getSimpleName() + " registered by " + MMU_BSN);
        }
        assertEquals("mmu", mmuBundle().getHeaders("").get("Shadowbox-Tracker-Role"));
    }

    @Test
    void shadowedTablesAreTrackedByTheMmuAndASlotMoveIsNotRefusedForThem() {
        GuestCpu cpu = mmu().cpu(vm, 0);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(0x5a5a, cpu.value());
        assertEquals(Set.of(PML4, PDPT, PD), mmuTracks(), "account_shadowed: the non-leaf tables");
        assertTrue(pageTrack.isActive(vm, PD, TrackMode.WRITE));

        assertTrue(cpu.write(0x400000, 1, 8, false), "a data page: not emulated");
        assertEquals(1, vm.memory().read(DATA << 12, 8));
        assertEquals(java.util.List.of(), mmu().check(vm));

        vm.moveSlot(1, 0x100000); // slot 1 holds the tables; only the MMU tracks them
        assertEquals(0x100000, vm.slot(1).baseGfn(), "MMU tracks do not refuse a move");
        assertEquals(Set.of(), mmuTracks(), "the move zapped every shadow page and its tracks");
    }

    @Test
    void anExternalTrackIsWriteProtectedThroughTheMmusHookAndRefusesTheMove() {
        GuestCpu cpu = mmu().cpu(vm, 0);
        assertTrue(cpu.write(0x400000, 1, 8, false));
        assertTrue(!cpu.emulated(), "a writable spte: the guest writes natively");
        pageTrack.add(vm, DATA, TrackMode.WRITE); // this test bundle is an external tracker (KVMGT's role)
        try {
            assertTrue(cpu.write(0x400000, 2, 8, false));
            assertTrue(cpu.emulated(), "page track write-protected the spte through the MMU's hook and flushed");
            assertEquals(2, vm.memory().read(DATA << 12, 8));
            VmException refused = assertThrows(VmException.class, () -> vm.moveSlot(1, 0x100000));
            assertTrue(refused.getMessage().startsWith("cannot move slot 1 of VM " + vm.name()), refused.getMessage());
        } finally {
            pageTrack.remove(vm, DATA, TrackMode.WRITE);
        }
    }

    @Test
    void stoppingTheBundleReleasesItsTracksAndStartingItRebuilds() throws Exception {
        GuestCpu before = mmu().cpu(vm, 0);
        assertTrue(before.read(0x400000, 8, false));
        assertEquals(Set.of(PML4, PDPT, PD), mmuTracks());

        mmuBundle().stop();
        assertNull(context.getServiceReference(Mmu.class), "no Mmu service while stopped");
        assertEquals(Set.of(), mmuTracks(), "page track dropped the MMU's tracks");
        assertTrue(assertThrows(VmException.class, () -> before.read(0x400000, 8, false)).getMessage()
                .startsWith("the MMU of VM " + vm.name() + " is gone"));
        vm.vcpu(0).emulatorWritePhys(DATA << 12, 7, 8); // the VM runs on without an MMU
        assertEquals(7, vm.memory().read(DATA << 12, 8));
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            Exception e = assertThrows(Exception.class, () -> gogo.run("mmu:stats " + vm.name()));
            assertEquals("the MMU is unavailable: the org.shadowbox.mmu bundle is not active (start it, then retry)",
                    e.getMessage());
        }

        mmuBundle().start();
        GuestCpu after = mmu().cpu(vm, 0);
        assertTrue(after.read(0x400000, 8, false), "the VM is served again");
        assertEquals(7, after.value());
        assertEquals(Set.of(PML4, PDPT, PD), mmuTracks());
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            Itest.await("the shell sees the Mmu again", () -> {
                try {
                    return gogo.run("mmu:check " + vm.name()).contains("ok");
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }
}
