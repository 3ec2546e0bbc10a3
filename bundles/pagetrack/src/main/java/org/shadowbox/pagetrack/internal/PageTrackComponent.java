package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;
import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.Owner;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.pagetrack.spi.MmuPageTrack;
import org.shadowbox.vm.spi.PlatformBundles;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;

/**
 * The {@link PageTrack} service, bundle-scoped: each using bundle gets its own instance,
 * whose owner is that bundle, by id and location (the MMU if its manifest says
 * {@code Shadowbox-Tracker-Role: mmu} and it is one of the platform's bundles: a tracker that
 * claims the header is external). When the bundle releases the service (it stops),
 * every track it holds is removed. Its notifier services are unregistered by the framework
 * when it stops, which detaches them (waiting for running calls) before this release.
 */
@Component(service = {PageTrack.class, MmuPageTrack.class}, scope = ServiceScope.BUNDLE)
public class PageTrackComponent implements MmuPageTrack {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");

    @Reference
    private PageTrackPlatform platform;

    /** Who is the platform: the MMU role is a platform-only capability. */
    @Reference
    private PlatformBundles platformBundles;

    private OwnerTrack track;

    @Activate
    void activate(ComponentContext context) {
        Bundle user = context.getUsingBundle();
        TrackerRole role = TrackerRole.ofHeader(user.getHeaders("").get(TrackerRole.HEADER));
        if (role == TrackerRole.MMU && !platformBundles.isPlatform(user.getBundleId(), user.getLocation())) {
            LOG.log(Level.WARNING, "bundle " + user.getSymbolicName() + " [" + user.getBundleId() + "] declares "
                    + TrackerRole.HEADER + ": mmu but is not one of the platform's bundles: it is an external tracker");
            role = TrackerRole.EXTERNAL;
        }
        track = platform.forOwner(new Owner(user.getBundleId(), user.getLocation(), user.getSymbolicName()), role);
    }

    @Deactivate
    void deactivate() {
        track.release();
    }

    @Override
    public boolean add(Vm vm, long gfn, TrackMode mode) {
        return track.add(vm, gfn, mode);
    }

    @Override
    public boolean remove(Vm vm, long gfn, TrackMode mode) {
        return track.remove(vm, gfn, mode);
    }

    @Override
    public boolean addLocked(Vm vm, long gfn, TrackMode mode) {
        return track.addLocked(vm, gfn, mode);
    }

    @Override
    public boolean removeLocked(Vm vm, long gfn, TrackMode mode) {
        return track.removeLocked(vm, gfn, mode);
    }

    @Override
    public List<TrackedPage> trackedLocked(Vm vm) {
        return track.trackedLocked(vm);
    }

    @Override
    public boolean isActive(Vm vm, long gfn, TrackMode mode) {
        return track.isActive(vm, gfn, mode);
    }

    @Override
    public boolean isActive(Vcpu vcpu, long gfn, TrackMode mode) {
        return track.isActive(vcpu, gfn, mode);
    }

    @Override
    public int count(Vm vm, long gfn, TrackMode mode) {
        return track.count(vm, gfn, mode);
    }

    @Override
    public String owner() {
        return track.owner();
    }

    @Override
    public Owner ownerBundle() {
        return track.ownerBundle();
    }

    @Override
    public List<TrackedPage> tracked(Vm vm) {
        return track.tracked(vm);
    }

    @Override
    public List<NotifierInfo> notifiers(Vm vm) {
        return track.notifiers(vm);
    }
}
