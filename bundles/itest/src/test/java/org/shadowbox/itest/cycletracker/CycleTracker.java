package org.shadowbox.itest.cycletracker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/**
 * The tracker bundle the lifecycle test installs and uninstalls again and again. It is not part
 * of the test bundle at run time: {@link org.shadowbox.itest.TrackerJars} copies this class
 * into a jar of its own, with its own manifest, so each copy has its own class loader.
 *
 * <p>Manifest headers tell it what to do: {@value #TRACK} {@code VM:gfn,gfn;VM:gfn} pages to
 * write-track, {@value #WATCH} the VM whose writes it reports to the test's probe (a
 * {@code BiConsumer<Long, Long>} service with {@code shadowbox.itest.probe=cycle}): gpa and value.
 */
public final class CycleTracker implements BundleActivator, PageTrackNotifier {
    public static final String TRACK = "Shadowbox-Itest-Track";
    public static final String WATCH = "Shadowbox-Itest-Watch";

    private volatile Vm watched;
    private volatile long[] gfns = new long[0];
    private volatile BiConsumer<Long, Long> probe;
    private ServiceRegistration<PageTrackNotifier> registration;
    private BundleContext context;
    private final List<ServiceReference<?>> used = new ArrayList<>();

    @Override
    @SuppressWarnings("unchecked")
    public void start(BundleContext ctx) throws Exception {
        context = ctx;
        Hypervisor hv = get(ctx, Hypervisor.class.getName(), null);
        PageTrack track = get(ctx, PageTrack.class.getName(), null);
        probe = get(ctx, BiConsumer.class.getName(), "(shadowbox.itest.probe=cycle)");
        String watch = ctx.getBundle().getHeaders().get(WATCH);
        for (String part : ctx.getBundle().getHeaders().get(TRACK).split(";")) {
            String[] vmAndGfns = part.split(":");
            Vm vm = hv.require(vmAndGfns[0]);
            long[] list = Arrays.stream(vmAndGfns[1].split(",")).mapToLong(s -> Long.decode(s.trim())).sorted().toArray();
            for (long g : list) {
                track.add(vm, g, TrackMode.WRITE);
            }
            if (vm.name().equals(watch)) {
                gfns = list;
                watched = vm;
            }
        }
        registration = ctx.registerService(PageTrackNotifier.class, this, null);
    }

    @SuppressWarnings("unchecked")
    private <T> T get(BundleContext ctx, String type, String filter) throws Exception {
        ServiceReference<?>[] refs = ctx.getServiceReferences(type, filter);
        if (refs == null) {
            throw new IllegalStateException("no service " + type + " " + filter);
        }
        used.add(refs[0]);
        return (T) ctx.getService(refs[0]);
    }

    @Override
    public void stop(BundleContext ctx) {
        registration.unregister(); // returns when no call into this notifier runs
        for (ServiceReference<?> r : used) {
            ctx.ungetService(r); // PageTrack released: every track of this bundle goes
        }
        probe = null;
    }

    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        if (vm == watched && Arrays.binarySearch(gfns, gpa >>> 12) >= 0) {
            probe.accept(gpa, value);
        }
    }
}
