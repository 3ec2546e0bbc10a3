package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.pagetrack.TrackMode.WRITE;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentContext;
import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.internal.HypervisorImpl;
import org.shadowbox.vm.VmSpec;

/** The DS side, driven by hand: whiteboard binding by service id and property, bundle-scoped owners. */
class OsgiWiringTest {
    private final HypervisorImpl hv = new HypervisorImpl();
    private final PageTrackPlatform platform = new PageTrackPlatform();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    OsgiWiringTest() {
        hv.addVmListener(platform);
        hv.addWriteListener(platform);
    }

    private static Bundle bundle(String bsn, String role) {
        return bundle(bsn, role, "platform:" + bsn);
    }

    /** A bundle at {@code location}: the platform's when it starts with "platform:". */
    private static Bundle bundle(String bsn, String role, String location) {
        Hashtable<String, String> headers = new Hashtable<>();
        if (role != null) {
            headers.put(TrackerRole.HEADER, role);
        }
        return (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (p, m, a) -> switch (m.getName()) {
                    case "getSymbolicName" -> bsn;
                    case "getHeaders" -> headers;
                    case "getBundleId" -> (long) location.hashCode();
                    case "getLocation" -> location;
                    case "toString" -> "bundle " + bsn;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @SuppressWarnings("unchecked")
    private static <T> ServiceReference<T> ref(long id, String bsn, Object vms) {
        Map<String, Object> props = new HashMap<>();
        props.put(Constants.SERVICE_ID, id);
        if (vms != null) {
            props.put(PageTrackNotifier.VM_PROPERTY, vms);
        }
        Bundle b = bundle(bsn, null);
        return (ServiceReference<T>) Proxy.newProxyInstance(ServiceReference.class.getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, m, a) -> switch (m.getName()) {
                    case "getProperty" -> props.get(a[0]);
                    case "getBundle" -> b;
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == a[0];
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void notifierServicesAreOrderedByServiceIdAndSelectVmsByProperty() {
        Vm demo = hv.createVm(VmSpec.pc("demo", 16L << 20, 1));
        Vm other = hv.createVm(VmSpec.pc("other", 16L << 20, 1));
        platform.bindNotifier(new Rig.Recorder("s9", log), ref(9, "b.nine", null));
        platform.bindNotifier(new Rig.Recorder("s5", log), ref(5, "b.five", "demo"));
        platform.bindNotifier(new Rig.Recorder("s7", log), ref(7, "b.seven", new String[] {"other", "later"}));
        platform.bindNotifier(new Rig.Recorder("s3", log), ref(3, "b.three", 42));
        demo.vcpu(0).emulatorWritePhys(0x1000, 1, 1);
        other.vcpu(0).emulatorWritePhys(0x1000, 2, 1);
        Vm later = hv.createVm(VmSpec.pc("later", 16L << 20, 1));
        later.vcpu(0).emulatorWritePhys(0x1000, 3, 1);
        assertEquals(List.of("s9:write demo vcpu0 0x1000=0x1/1", "s5:write demo vcpu0 0x1000=0x1/1",
                "s9:write other vcpu0 0x1000=0x2/1", "s7:write other vcpu0 0x1000=0x2/1",
                "s9:write later vcpu0 0x1000=0x3/1", "s7:write later vcpu0 0x1000=0x3/1"), log,
                "newest service (highest id) first; a bad property type attaches nowhere");
        assertEquals(List.of(9L, 5L), platform.notifiers(demo).stream().map(NotifierInfo::serviceId).toList());

        log.clear();
        ServiceReference<PageTrackNotifier> r5 = ref(5, "b.five", "other");
        platform.updatedNotifier(new Rig.Recorder("s5", log), r5);
        demo.vcpu(0).emulatorWritePhys(0x1000, 4, 1);
        assertEquals(List.of("s9:write demo vcpu0 0x1000=0x4/1"), log, "a changed property re-selects");
        platform.unbindNotifier(ref(9, "b.nine", null));
        assertEquals(List.of(7L, 5L), platform.notifiers(other).stream().map(NotifierInfo::serviceId).toList());
    }

    @Test
    void eachUsingBundleIsAnOwnerAndItsReleaseGivesBackItsTracks() throws Exception {
        Vm vm = hv.createVm(VmSpec.pc("demo", 16L << 20, 1));
        PageTrackComponent audit = component(bundle("org.shadowbox.audit", null));
        PageTrackComponent mmu = component(bundle("org.shadowbox.mmu", "mmu"));
        audit.add(vm, 0x200, WRITE);
        mmu.add(vm, 0x201, WRITE);
        assertEquals("org.shadowbox.audit", audit.owner());
        assertEquals(Map.of("org.shadowbox.audit", 1), audit.tracked(vm).get(0).owners());
        assertThrows(VmException.class, () -> vm.moveSlot(1, 0x1000), "the audit bundle is external");
        audit.deactivate(); // the bundle stopped
        assertEquals(0, mmu.count(vm, 0x200, WRITE));
        assertEquals(0x1000, vm.moveSlot(1, 0x1000).baseGfn(), "the MMU's track does not block a move");
        assertTrue(mmu.tracked(vm).isEmpty());
    }

    @Test
    void aBundleOutsideThePlatformThatClaimsTheMmuRoleIsExternal() throws Exception {
        Vm vm = hv.createVm(VmSpec.pc("claim", 16L << 20, 1));
        PageTrackComponent fake = component(bundle("org.shadowbox.mmu", "mmu", "file:/tmp/deploy/fake-mmu.jar"));
        fake.add(vm, 0x200, WRITE);
        assertThrows(VmException.class, () -> vm.moveSlot(1, 0x1000), "its track blocks a move: it is external");
        VmException e = assertThrows(VmException.class, () -> fake.addLocked(vm, 0x201, WRITE));
        assertTrue(e.getMessage().contains("only the platform's MMU holds the MMU role"), e.getMessage());
        fake.deactivate();
    }

    private PageTrackComponent component(Bundle user) throws Exception {
        PageTrackComponent c = new PageTrackComponent();
        java.lang.reflect.Field f = PageTrackComponent.class.getDeclaredField("platform");
        f.setAccessible(true); // what SCR's field injection does
        f.set(c, platform);
        java.lang.reflect.Field pb = PageTrackComponent.class.getDeclaredField("platformBundles");
        pb.setAccessible(true);
        pb.set(c, (org.shadowbox.vm.spi.PlatformBundles) (id, location) -> location.startsWith("platform:"));
        ComponentContext ctx = (ComponentContext) Proxy.newProxyInstance(ComponentContext.class.getClassLoader(),
                new Class<?>[] {ComponentContext.class}, (p, m, a) -> {
                    if (m.getName().equals("getUsingBundle")) {
                        return user;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
        c.activate(ctx);
        return c;
    }
}
