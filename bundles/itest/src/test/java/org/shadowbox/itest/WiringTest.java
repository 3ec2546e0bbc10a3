package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.common.service.ServiceAware;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.spi.VmListener;

/** The container is wired as the launcher's will be: services up, from the right bundles, commands registered. */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class WiringTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void theShadowboxBundlesAreActive() {
        for (String bsn : new String[] { "org.shadowbox.api", "org.shadowbox.vm", "org.shadowbox.pagetrack",
                "org.shadowbox.mmu", "org.shadowbox.shell" }) {
            var found = Itest.bundles(context, bsn);
            assertEquals(1, found.size(), "bundle " + bsn + " installed once");
            assertEquals(Bundle.ACTIVE, found.get(0).getState(), "bundle " + bsn + " is ACTIVE");
        }
        assertTrue(Itest.bundles(context, Itest.AUDIT_BSN).isEmpty(), "the audit plugin is not started by default");
    }

    @Test
    void theVmBundleProvidesTheHypervisor(@InjectService(timeout = Itest.TIMEOUT_MS) ServiceAware<Hypervisor> hv) {
        assertEquals("org.shadowbox.vm", hv.getServiceReference().getBundle().getSymbolicName());
    }

    @Test
    void thePageTrackBundleProvidesPageTrackPerBundle(
            @InjectService(timeout = Itest.TIMEOUT_MS) ServiceAware<PageTrack> pt,
            @InjectService(timeout = Itest.TIMEOUT_MS) PageTrack pageTrack) {
        ServiceReference<PageTrack> ref = pt.getServiceReference();
        assertEquals("org.shadowbox.pagetrack", ref.getBundle().getSymbolicName());
        assertEquals("bundle", ref.getProperty("service.scope"), "PageTrack is bundle-scoped: each bundle owns its tracks");
        assertEquals(context.getBundle().getSymbolicName(), pageTrack.owner(), "our instance attributes to us");
    }

    @Test
    void pageTrackHooksIntoTheVm(
            @InjectService(timeout = Itest.TIMEOUT_MS) EmulatedWriteListener anyWriteListener,
            @InjectService(timeout = Itest.TIMEOUT_MS) VmListener anyVmListener) {
        assertTrue(bundlesOf(EmulatedWriteListener.class).contains("org.shadowbox.pagetrack"),
                "page track listens to emulated writes (kvm_page_track_write): " + bundlesOf(EmulatedWriteListener.class));
        assertTrue(bundlesOf(VmListener.class).contains("org.shadowbox.pagetrack"),
                "page track takes part in memslot changes: " + bundlesOf(VmListener.class));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = ';', value = {
            "vm; list create info destroy",
            "slot; list add delete move dirty",
            "mem; read write",
            "cpu; write cmpxchg show set",
            "mmu; access walk pages stats check flush invlpg map",
            "track; add remove active list notifiers" })
    void theShellRegistersEachScope(String scope, String functions) {
        Set<String> want = new TreeSet<>(Arrays.asList(functions.split(" ")));
        Set<String> have = new TreeSet<>();
        Itest.await("commands of scope " + scope, () -> {
            have.clear();
            for (ServiceReference<?> ref : Itest.services(context, "(osgi.command.scope=" + scope + ")")) {
                if ("org.shadowbox.shell".equals(ref.getBundle().getSymbolicName())) {
                    Object f = ref.getProperty("osgi.command.function");
                    if (f instanceof String[] a) {
                        have.addAll(Arrays.asList(a));
                    } else if (f != null) {
                        have.add(f.toString());
                    }
                }
            }
            return have.containsAll(want);
        });
        assertTrue(have.containsAll(want), scope + ": " + have);
    }

    private Set<String> bundlesOf(Class<?> type) {
        Set<String> out = new TreeSet<>();
        for (ServiceReference<?> ref : Itest.services(context, "(objectClass=" + type.getName() + ")")) {
            out.add(ref.getBundle().getSymbolicName());
        }
        return out;
    }
}
