package ${package}.internal;

import java.util.Map;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The tracker: on activation it tracks page {@link #GFN} of VM {@link #VM} for writes (KVM:
 * kvm_slot_page_track_add_page()) and attaches a {@link WriteCounter} to that VM; the Gogo
 * command {@code ${commandScope}:count} shows what the counter saw.
 *
 * <p>Immediate, so that Gogo releasing the command after a call does not deactivate it and lose
 * the count. {@link PageTrack} is bundle-scoped: the track is this bundle's, and is released
 * when the bundle stops even if {@link #deactivate()} never ran.
 */
@Component(service = TrackerCommands.class, immediate = true, property = {
    "osgi.command.scope=${commandScope}",
    "osgi.command.function=count"
})
public final class TrackerCommands {
    /** The VM this tracker watches: Shadowbox's default workspace creates {@code demo}. */
    static final String VM = "demo";
    /** The page this tracker watches (guest physical address 0x1234000). */
    static final long GFN = 0x1234;

    private final PageTrack track;
    private final Vm vm;
    private final WriteCounter counter = new WriteCounter(GFN);
    private final ServiceRegistration<PageTrackNotifier> registration;

    @Activate
    public TrackerCommands(BundleContext context, @Reference PageTrack track, @Reference Hypervisor hypervisor) {
        this.track = track;
        this.vm = hypervisor.vm(VM).orElseThrow(() -> new IllegalStateException(
                "VM '" + VM + "' does not exist: create it (vm:create " + VM + ") and restart this bundle"));
        // Notifier first, then the track: no write to the page goes unseen.
        this.registration = context.registerService(PageTrackNotifier.class, counter,
                FrameworkUtil.asDictionary(Map.of(PageTrackNotifier.VM_PROPERTY, VM)));
        track.add(vm, GFN, TrackMode.WRITE);
    }

    @Deactivate
    void deactivate() {
        // Unregistering waits for calls in flight; then the track goes.
        registration.unregister();
        try {
            track.remove(vm, GFN, TrackMode.WRITE);
        } catch (VmException e) {
            // the VM or its slot is gone: so is the track
        }
    }

    @Descriptor("the guest's writes to this tracker's page since the tracker started")
    public String count() {
        return String.format("%s gfn 0x%x: %d writes%s", VM, counter.gfn(), counter.writes(),
                counter.slotRemoved() ? " (its memslot was deleted)" : "");
    }
}
