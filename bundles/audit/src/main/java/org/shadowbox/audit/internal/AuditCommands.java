package org.shadowbox.audit.internal;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.shadowbox.command.CommandBase;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The audit tracker: {@code audit:watch}, {@code audit:unwatch} and {@code audit:log}.
 *
 * <p>It is what any tracker bundle does: get {@link PageTrack} (bundle-scoped, so this bundle
 * owns its tracks), write-track the pages it cares about, and register a
 * {@link PageTrackNotifier} (here for every VM) that keeps only the writes to those pages.
 * When the bundle stops, the notifier is unregistered first (which waits for calls in
 * flight), then the pages are untracked; page track would release them anyway.
 */
// immediate: a delayed component would be deactivated (losing every watch) each time Gogo
// releases the service after a command.
@Component(name = "org.shadowbox.audit", service = AuditCommands.class, immediate = true, property = {
        "osgi.command.scope=audit",
        "osgi.command.function=watch",
        "osgi.command.function=unwatch",
        "osgi.command.function=log" })
@Designate(ocd = AuditCommands.Config.class)
public final class AuditCommands extends CommandBase {

    @ObjectClassDefinition(name = "Shadowbox audit tracker",
            description = "Records the emulated writes to the guest pages watched with audit:watch.")
    public @interface Config {
        @AttributeDefinition(description = "Entries kept per VM (1 to 1000000, 30 bytes each); older ones are"
                + " dropped and counted.", min = "1", max = "1000000")
        int capacity() default 10_000;
    }

    private static final String JSON = "--json";
    private static final String JSON_HELP = "print one JSON value instead of text";
    private static final String HELP = "--help";
    private static final String HELP_HELP = "show this help";
    private static final String ON = "true";
    private static final String OFF = "false";

    private final Hypervisor hypervisor;
    private final PageTrack pageTrack;
    private final AuditRecorder recorder;
    private final ServiceRegistration<PageTrackNotifier> registration;

    @Activate
    public AuditCommands(@Reference Hypervisor hypervisor, @Reference PageTrack pageTrack, BundleContext context,
            Config config) {
        super("audit");
        this.hypervisor = hypervisor;
        this.pageTrack = pageTrack;
        this.recorder = new AuditRecorder(config.capacity(), System::currentTimeMillis);
        // No shadowbox.vm property: attached to every VM, present and future.
        this.registration = context.registerService(PageTrackNotifier.class, recorder, null);
    }

    /** Unregisters the notifier (no call into it runs afterwards), then untracks every watched page. */
    @Deactivate
    synchronized void deactivate() {
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // already unregistered: the framework got there first
        }
        for (Vm vm : recorder.vms()) {
            for (long gfn : recorder.watched(vm)) {
                try {
                    pageTrack.remove(vm, gfn, TrackMode.WRITE);
                } catch (VmException e) {
                    // the VM or its slot is gone, and the track with it
                }
            }
        }
    }

    @Descriptor("track a guest page (write mode) and record every emulated write to it")
    public synchronized String watch(
            @Descriptor(JSON_HELP) @Parameter(names = JSON, presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP_HELP) @Parameter(names = HELP, presentValue = ON, absentValue = OFF) String help,
            @Descriptor("VM name") String vm,
            @Descriptor("guest frame number, 0x hex or decimal") String gfn) {
        if (ON.equals(help)) {
            return usage("watch");
        }
        Vm v = hypervisor.require(vm);
        long g = Numbers.parseGfn(gfn);
        recorder.forgetDestroyed();
        if (recorder.isWatched(v, g)) {
            throw new VmException("gfn " + Numbers.hex(g) + " of VM " + vm + " is already watched: see audit:log " + vm);
        }
        pageTrack.add(v, g, TrackMode.WRITE); // refuses a gfn in no slot, with page track's own message
        recorder.watch(v, g);
        AuditFormat.WatchResult r = new AuditFormat.WatchResult(v.name(), g, true, pageTrack.count(v, g, TrackMode.WRITE));
        return ON.equals(json) ? AuditFormat.json(r) : AuditFormat.text(r);
    }

    @Descriptor("stop watching a guest page and drop the audit's track of it (the log stays)")
    public synchronized String unwatch(
            @Descriptor(JSON_HELP) @Parameter(names = JSON, presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP_HELP) @Parameter(names = HELP, presentValue = ON, absentValue = OFF) String help,
            @Descriptor("VM name") String vm,
            @Descriptor("guest frame number, 0x hex or decimal") String gfn) {
        if (ON.equals(help)) {
            return usage("unwatch");
        }
        Vm v = hypervisor.require(vm);
        long g = Numbers.parseGfn(gfn);
        if (!recorder.isWatched(v, g)) {
            throw new VmException("gfn " + Numbers.hex(g) + " of VM " + vm + " is not watched: accepted one of "
                    + watchedList(v));
        }
        pageTrack.remove(v, g, TrackMode.WRITE);
        recorder.unwatch(v, g);
        AuditFormat.WatchResult r = new AuditFormat.WatchResult(v.name(), g, false, pageTrack.count(v, g, TrackMode.WRITE));
        return ON.equals(json) ? AuditFormat.json(r) : AuditFormat.text(r);
    }

    @Descriptor("show the writes recorded for a VM's watched pages, oldest first")
    public String log(
            @Descriptor(JSON_HELP) @Parameter(names = JSON, presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP_HELP) @Parameter(names = HELP, presentValue = ON, absentValue = OFF) String help,
            @Descriptor("VM name") String vm) {
        if (ON.equals(help)) {
            return usage("log");
        }
        Vm v = hypervisor.require(vm);
        AuditFormat.LogResult r = new AuditFormat.LogResult(v.name(), recorder.watched(v), recorder.log(v));
        return ON.equals(json) ? AuditFormat.json(r) : AuditFormat.text(r);
    }

    private String watchedList(Vm vm) {
        long[] w = recorder.watched(vm);
        if (w.length == 0) {
            return "none (nothing is watched in this VM)";
        }
        StringBuilder sb = new StringBuilder();
        for (long g : w) {
            sb.append(sb.length() == 0 ? "" : ", ").append(Numbers.hex(g));
        }
        return sb.toString();
    }
}
