package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.osgi.util.tracker.ServiceTracker;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.shadow.MmuChecker;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.mmu.internal.shadow.ShadowMmu;
import org.shadowbox.mmu.internal.shadow.VcpuMmu;
import org.shadowbox.mmu.spi.PteWriteHandler;
import org.shadowbox.mmu.spi.PteWriteRoute;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.WriteProtectHook;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmListener;

/**
 * The writeflood bundle stopped and started while a VM runs a workload: a vCPU thread reads its
 * memory and rewrites its page directory (emulated writes, since the PD is write-tracked) the
 * whole time, so the page directory floods and is unshadowed again and again. Stopping the bundle makes the MMU fall back at once, starting it resumes the
 * policy, {@code flood:stats} moves, and the guest never sees a wrong value.
 *
 * <p>The MMU bundle's OSGi wiring is not on this branch yet, so this test wires the shadow MMU
 * itself, as that wiring will: its hooks as page track's write-protect hook, VM listener and
 * notifier, its {@link PteWriteRoute} as a service, and every {@link PteWriteHandler} service
 * bound to it (the plain classes are built into this test bundle).
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class WriteFloodBundleTest {
    private static final String BSN = "org.shadowbox.writeflood";
    private static final long PML4 = 0x110, PDPT = 0x111, PD = 0x112, PT = 0x113, PD2 = 0x114, PT2 = 0x115;
    private static final long DATA = 0x200, DATA2 = 0x201;
    private static final long GVA = 0x40_0000L;
    /** Mapped through PD2, the page directory the guest keeps rewriting. */
    private static final long GVA2 = 1L << 30;
    /** Where the guest sees PD2 (through PD and PT, so writing it does not walk PD2). */
    private static final long PD2_WINDOW = 0x40_1000L;
    private static final long TABLE = 0x27; // P RW US A
    private static final long LEAF = 0x67; // P RW US A D

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;

    private Vm vm;
    private final MmuHooks hooks = new MmuHooks();
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private ServiceTracker<PteWriteHandler, PteWriteHandler> handlers;

    @BeforeEach
    void wireTheMmu() {
        vm = Itest.newVm(hypervisor, "flood");
        registrations.add(context.registerService(new String[] {WriteProtectHook.class.getName(), VmListener.class.getName()},
                hooks, null));
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(PageTrackNotifier.VM_PROPERTY, vm.name());
        registrations.add(context.registerService(PageTrackNotifier.class, hooks, props));
        registrations.add(context.registerService(PteWriteRoute.class, hooks.route(), null));
        handlers = new ServiceTracker<>(context, PteWriteHandler.class, null) {
            @Override
            public PteWriteHandler addingService(ServiceReference<PteWriteHandler> ref) {
                PteWriteHandler h = context.getService(ref);
                hooks.setPteWriteHandler(h, ref.getBundle().getSymbolicName());
                return h;
            }

            @Override
            public void removedService(ServiceReference<PteWriteHandler> ref, PteWriteHandler h) {
                hooks.unsetPteWriteHandler(h);
                context.ungetService(ref);
            }
        };
        handlers.open();
    }

    @AfterEach
    void unwire() {
        handlers.close();
        registrations.forEach(ServiceRegistration::unregister);
        Itest.destroyQuietly(hypervisor, vm);
    }

    private long floodStat(Itest.Gogo gogo, String name) throws Exception {
        String json = gogo.run("flood:stats --json " + vm.name());
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
        assertTrue(m.find(), json);
        return Long.parseLong(m.group(1));
    }

    @Test
    void stoppingAndStartingTheBundleWhileTheGuestRunsChangesNothingTheGuestSees() throws Exception {
        Bundle flood = Itest.bundles(context, BSN).get(0);
        Itest.await("the writeflood handler bound", () -> hooks.pteWriteHandler() != null);
        ShadowMmu mmu = hooks.attach(vm, pageTrack, 64, 3);
        for (int i = 0; i < 2; i++) {
            vm.vcpu(i).set(Register.CR0, Register.CR0_PE | Register.CR0_PG | Register.CR0_WP);
            vm.vcpu(i).set(Register.CR4, Register.CR4_PAE);
            vm.vcpu(i).set(Register.EFER, Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE);
            vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
        vm.memory().write(PML4 << 12, (PDPT << 12) | TABLE, 8);
        vm.memory().write(PDPT << 12, (PD << 12) | TABLE, 8);
        vm.memory().write((PD << 12) + 8 * 2, (PT << 12) | TABLE, 8);
        vm.memory().write(PT << 12, (DATA << 12) | LEAF, 8);
        vm.memory().write((PT << 12) + 8, (PD2 << 12) | LEAF, 8);
        vm.memory().write((PDPT << 12) + 8, (PD2 << 12) | TABLE, 8);
        vm.memory().write(PD2 << 12, (PT2 << 12) | TABLE, 8);
        vm.memory().write(PT2 << 12, (DATA2 << 12) | LEAF, 8);
        vm.memory().write(DATA << 12, 0x5eed, 8);
        vm.memory().write(DATA2 << 12, 0x5eed2, 8);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong rounds = new AtomicLong();
        AtomicReference<String> wrong = new AtomicReference<>();
        Thread vcpu = new Thread(() -> {
            VcpuMmu cpu = mmu.vcpu(0);
            AccessResult r = new AccessResult();
            try {
                for (long i = 0; !stop.get(); i++) {
                    if (!cpu.read(GVA, 8, false, r).ok() || r.value != 0x5eed) {
                        wrong.compareAndSet(null, "round " + i + ": read " + r);
                    }
                    if (!cpu.read(GVA2, 8, false, r).ok() || r.value != 0x5eed2) {
                        wrong.compareAndSet(null, "round " + i + ": read " + r);
                    }
                    int entry = 8 + (int) (i % 16);
                    long value = i % 3 == 0 ? 0 : ((DATA + entry) << 12) | TABLE;
                    if (!cpu.write(PD2_WINDOW + 8L * entry, value, 8, false, r).ok()) {
                        wrong.compareAndSet(null, "round " + i + ": PD write " + r);
                    }
                    rounds.incrementAndGet();
                }
            } catch (RuntimeException | Error e) {
                wrong.compareAndSet(null, e.toString());
            }
        }, "vcpu0");
        vcpu.start();
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            Itest.await("flood:stats moving", () -> stat(gogo, "mmu_pte_write") > 100);
            long fallback = mmu.stats().mmuPteWriteFallback;
            assertTrue(floodStat(gogo, "mmu_flooded") > 0, gogo.output());

            flood.stop();
            assertNull(hooks.pteWriteHandler(), "the MMU fell back when the bundle stopped");
            long since = rounds.get();
            Itest.await("the guest running on the fallback", () -> rounds.get() > since + 100);
            assertTrue(mmu.stats().mmuPteWriteFallback > fallback, "the fallback served the writes");

            flood.start();
            Itest.await("the handler bound again", () -> hooks.pteWriteHandler() != null);
            Itest.await("flood:stats moving again", () -> stat(gogo, "mmu_pte_write") > 100);
        } finally {
            stop.set(true);
            vcpu.join(Itest.TIMEOUT_MS);
        }
        assertEquals(null, wrong.get(), "what the guest saw");
        assertEquals(List.of(), MmuChecker.check(mmu));
        assertNotNull(Itest.bundles(context, BSN).get(0));
        assertEquals(Bundle.ACTIVE, flood.getState());
    }

    private long stat(Itest.Gogo gogo, String name) {
        try {
            return floodStat(gogo, name);
        } catch (Exception e) {
            return -1;
        }
    }
}
