package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.spi.WriteProtectHook;
import org.shadowbox.pagetrack.guard.GuardMonitor;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.spi.VmListener;

/**
 * Page track's singleton under OSGi: the {@link PageTrackCore} as the VM bundle's
 * {@link VmListener} and {@link EmulatedWriteListener}, the notifier whiteboard (every
 * {@link PageTrackNotifier} service, attached to the VMs its {@value PageTrackNotifier#VM_PROPERTY}
 * property names), and the MMU's optional {@link WriteProtectHook}. It is also registered
 * under its own (private) class so that the bundle-scoped {@link PageTrackComponent}s find it.
 */
@Component(service = {VmListener.class, EmulatedWriteListener.class, PageTrackPlatform.class, GuardMonitor.class},
        configurationPid = PageTrackPlatform.PID, immediate = true)
@Designate(ocd = Config.class)
public class PageTrackPlatform extends PageTrackCore implements GuardMonitor {
    /** Configuration Admin PID of {@link Config}. */
    public static final String PID = "org.shadowbox.pagetrack";

    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");

    @Activate
    void activate(Config config) {
        configure(config);
    }

    @Modified
    void modified(Config config) {
        configure(config);
    }

    private void configure(Config config) {
        setMaxFailures(config.guard_maxFailures());
        setTimeoutMillis(config.guard_timeoutMillis());
        try {
            setIsolate(Arrays.asList(config.guard_isolate()));
        } catch (VmException e) {
            LOG.log(Level.WARNING, "ignoring " + e.getMessage() + "; keeping guard.isolate=" + String.join(",", isolate()));
        }
    }

    /** The watchdog thread ends with the component. */
    @Deactivate
    void deactivate() {
        close();
    }

    @Override
    public List<GuardRecord> notifiers() {
        return guardRecords();
    }

    @Reference(service = PageTrackNotifier.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindNotifier", updated = "updatedNotifier")
    void bindNotifier(PageTrackNotifier notifier, ServiceReference<PageTrackNotifier> ref) {
        bindService(notifier, bundleOf(ref), bundleIdOf(ref), serviceId(ref), vmNames(ref));
    }

    /** Returns only when no call into the notifier is running (SRCU). */
    void unbindNotifier(ServiceReference<PageTrackNotifier> ref) {
        unbindService(serviceId(ref));
    }

    /** Its {@value PageTrackNotifier#VM_PROPERTY} may have changed: re-attach. */
    void updatedNotifier(PageTrackNotifier notifier, ServiceReference<PageTrackNotifier> ref) {
        unbindService(serviceId(ref));
        bindService(notifier, bundleOf(ref), bundleIdOf(ref), serviceId(ref), vmNames(ref));
    }

    @Reference(service = WriteProtectHook.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindHook")
    void bindHook(WriteProtectHook hook, ServiceReference<WriteProtectHook> ref) {
        setHook(new HookEntry(hook, bundleOf(ref), serviceId(ref)));
    }

    void unbindHook(WriteProtectHook hook) {
        HookEntry current = slotPageTrack().hook();
        if (current != null && current.hook == hook) {
            setHook(null);
        }
    }

    private static long serviceId(ServiceReference<?> ref) {
        return (Long) ref.getProperty(Constants.SERVICE_ID);
    }

    private static long bundleIdOf(ServiceReference<?> ref) {
        Bundle b = ref.getBundle();
        return b == null ? -1 : b.getBundleId();
    }

    private static String bundleOf(ServiceReference<?> ref) {
        Bundle b = ref.getBundle();
        return b == null || b.getSymbolicName() == null ? "unknown bundle" : b.getSymbolicName();
    }

    /** The VM names a notifier selects; {@code null} (every VM) when it names none. */
    private static Collection<String> vmNames(ServiceReference<?> ref) {
        Object v = ref.getProperty(PageTrackNotifier.VM_PROPERTY);
        List<String> names;
        if (v == null) {
            return null;
        } else if (v instanceof String s) {
            names = List.of(s);
        } else if (v instanceof String[] a) {
            names = Arrays.asList(a);
        } else if (v instanceof Collection<?> c) {
            names = c.stream().map(String::valueOf).toList();
        } else {
            LOG.log(Level.WARNING, "bundle " + bundleOf(ref) + ": notifier property " + PageTrackNotifier.VM_PROPERTY
                    + " is a " + v.getClass().getName() + ": accepted String or String[]; attaching to no VM");
            return List.of();
        }
        return names.isEmpty() ? null : names;
    }
}
