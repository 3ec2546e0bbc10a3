package org.shadowbox.itest.spintracker;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/**
 * A hostile tracker: its {@code trackWrite} loops, deaf to interrupts, until the test lets it go.
 * Like {@link org.shadowbox.itest.cycletracker.CycleTracker} it is not part of the test bundle
 * at run time: {@link org.shadowbox.itest.TrackerJars} copies it into a bundle of its own.
 *
 * <p>Its notifier is attached to the VM named by the {@value #WATCH} header only. The test's probe
 * services (property {@code shadowbox.itest.probe=spin}): an {@code AtomicInteger} counting calls
 * entered, an {@code AtomicBoolean} that ends every loop once set.
 */
public final class SpinTracker implements BundleActivator, PageTrackNotifier {
    public static final String WATCH = "Shadowbox-Itest-Watch";
    private static final String PROBE = "(shadowbox.itest.probe=spin)";

    private volatile AtomicInteger entered;
    private volatile AtomicBoolean release;
    private ServiceRegistration<PageTrackNotifier> registration;

    @Override
    public void start(BundleContext ctx) throws Exception {
        entered = probe(ctx, AtomicInteger.class);
        release = probe(ctx, AtomicBoolean.class);
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(PageTrackNotifier.VM_PROPERTY, ctx.getBundle().getHeaders().get(WATCH));
        registration = ctx.registerService(PageTrackNotifier.class, this, props);
    }

    private static <T> T probe(BundleContext ctx, Class<T> type) throws Exception {
        ServiceReference<?>[] refs = ctx.getServiceReferences(type.getName(), PROBE);
        if (refs == null) {
            throw new IllegalStateException("no probe " + type.getName());
        }
        return type.cast(ctx.getService(refs[0]));
    }

    @Override
    public void stop(BundleContext ctx) {
        registration.unregister(); // must return although a call into this notifier never does
    }

    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        entered.incrementAndGet();
        AtomicBoolean r = release;
        while (!r.get()) {
            Thread.onSpinWait(); // no sleep, no wait: interrupts change nothing
        }
    }
}
