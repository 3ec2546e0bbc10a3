package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/**
 * A tracker registered from this test bundle through the OSGi whiteboard receives the emulated
 * writes of a VM made through the Hypervisor service, after guest memory holds the bytes, and
 * stops receiving them once unregistered; a notifier aimed at another VM is never called.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class NotifierWhiteboardTest {

    /** One {@code trackWrite} as seen from inside the callback, with what memory held then. */
    record Seen(String vm, int vcpu, long gpa, long value, int bytes, long memoryAtCall) {
    }

    /** A notifier that records what it is told and what guest memory holds at that moment. */
    static final class Recording implements PageTrackNotifier {
        final List<Seen> seen = new CopyOnWriteArrayList<>();

        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
            seen.add(new Seen(vm.name(), vcpuId, gpa, value, bytes, vm.memory().read(gpa, bytes)));
        }
    }

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;

    private Vm vm;

    @BeforeEach
    void createVm() {
        vm = Itest.newVm(hypervisor, "itest-wb");
    }

    @AfterEach
    void destroyVm() {
        Itest.destroyQuietly(hypervisor, vm);
    }

    private ServiceRegistration<PageTrackNotifier> register(PageTrackNotifier n, String vmName) {
        Dictionary<String, Object> props = new Hashtable<>();
        if (vmName != null) {
            props.put(PageTrackNotifier.VM_PROPERTY, vmName);
        }
        return context.registerService(PageTrackNotifier.class, n, props);
    }

    @Test
    void aRegisteredNotifierReceivesEmulatedWritesAfterMemoryHoldsThem() {
        Recording all = new Recording();
        Recording mine = new Recording();
        Recording elsewhere = new Recording();
        ServiceRegistration<PageTrackNotifier> regAll = register(all, null);
        ServiceRegistration<PageTrackNotifier> regMine = register(mine, vm.name());
        ServiceRegistration<PageTrackNotifier> regElsewhere = register(elsewhere, "other");
        Itest.await("page track attaches both notifiers to " + vm.name(), () -> Itest.attached(pageTrack, vm, Itest.serviceId(regAll))
                && Itest.attached(pageTrack, vm, Itest.serviceId(regMine)));
        assertFalse(Itest.attached(pageTrack, vm, Itest.serviceId(regElsewhere)), "shadowbox.vm=other is not attached here");

        long gpa = (0x123L << 12) | 0x10;
        vm.vcpu(1).emulatorWritePhys(gpa, 0xcafef00dL, 4);
        vm.vcpu(0).emulatorWritePhys(gpa + 4, 0x7fL, 1);

        List<Seen> expected = List.of(
                new Seen(vm.name(), 1, gpa, 0xcafef00dL, 4, 0xcafef00dL),
                new Seen(vm.name(), 0, gpa + 4, 0x7fL, 1, 0x7fL));
        assertEquals(expected, all.seen, "the all-VMs notifier saw both writes, memory already written");
        assertEquals(expected, mine.seen, "the notifier naming this VM saw both writes");
        assertEquals(List.of(), elsewhere.seen, "the notifier naming another VM saw nothing");
        regElsewhere.unregister();

        // Host-side writes (userspace writing guest RAM) notify nobody.
        vm.memory().write(gpa, 1, 8);
        // An emulated cmpxchg notifies only when the exchange happens.
        assertFalse(vm.vcpu(0).emulatorCmpxchg(gpa, 2, 3, 8));
        assertTrue(vm.vcpu(0).emulatorCmpxchg(gpa, 1, 3, 8));
        assertEquals(new Seen(vm.name(), 0, gpa, 3, 8, 3), all.seen.get(all.seen.size() - 1));
        assertEquals(3, all.seen.size(), "host write and failed cmpxchg were not reported");

        long allId = Itest.serviceId(regAll);
        regAll.unregister(); // returns only when no call into it runs; none comes after
        assertFalse(Itest.attached(pageTrack, vm, allId), "detached as soon as unregister returned");
        vm.vcpu(1).emulatorWritePhys(gpa, 0x55, 2);
        assertEquals(3, all.seen.size(), "an unregistered notifier is never called again");
        assertEquals(4, mine.seen.size(), "the other notifier still is");
        regMine.unregister();
        vm.vcpu(1).emulatorWritePhys(gpa, 0x66, 2);
        assertEquals(4, mine.seen.size());
    }

    @Test
    void newestNotifierIsCalledFirst() {
        List<String> order = new CopyOnWriteArrayList<>();
        ServiceRegistration<PageTrackNotifier> first = register((v, c, g, x, b) -> order.add("first"), vm.name());
        ServiceRegistration<PageTrackNotifier> second = register((v, c, g, x, b) -> order.add("second"), vm.name());
        Itest.await("both attached", () -> Itest.attached(pageTrack, vm, Itest.serviceId(first))
                && Itest.attached(pageTrack, vm, Itest.serviceId(second)));
        vm.vcpu(0).emulatorWritePhys(0x2000, 1, 1);
        assertEquals(List.of("second", "first"), order);
    }

    @Test
    void shellCpuWriteReachesNotifiersAndMemWriteDoesNot(
            @InjectService(timeout = Itest.TIMEOUT_MS) CommandProcessor processor) throws Exception {
        Recording all = new Recording();
        ServiceRegistration<PageTrackNotifier> reg = register(all, vm.name());
        Itest.await("attached", () -> Itest.attached(pageTrack, vm, Itest.serviceId(reg)));
        Itest.await("the shell's cpu and mem commands", () -> Itest.services(context, "(osgi.command.scope=cpu)").length > 0
                && Itest.services(context, "(osgi.command.scope=mem)").length > 0);
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            gogo.run("cpu:write " + vm.name() + " 1 0x101008 0xdeadbeef --size 4");
            gogo.run("mem:write " + vm.name() + " 0x101010 0x1234 --size 2");
        }
        assertEquals(List.of(new Seen(vm.name(), 1, 0x101008, 0xdeadbeefL, 4, 0xdeadbeefL)), all.seen);
        assertEquals(0x1234, vm.memory().read(0x101010, 2), "the host-side write landed, silently");
    }
}
