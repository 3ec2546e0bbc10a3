package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.Owner;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.shell.internal.Views.NotifierRow;
import org.shadowbox.shell.internal.Views.TrackActive;
import org.shadowbox.shell.internal.Views.TrackChange;
import org.shadowbox.shell.internal.Views.TrackRow;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/**
 * {@code track:add}, {@code track:remove}, {@code track:active}, {@code track:list},
 * {@code track:notifiers}: KVM's page track from the shell. Page track is a bundle-scoped
 * service, so the shell bundle owns the tracks it adds and can remove only those. Without
 * the page-track bundle every command fails with one line saying so.
 */
@Component(service = Object.class, property = {"osgi.command.scope=track", "osgi.command.function=add",
        "osgi.command.function=remove", "osgi.command.function=active", "osgi.command.function=list",
        "osgi.command.function=notifiers"})
public class TrackCommands extends CommandSupport {

    static final String MODE = "tracking mode; KVM has only write";

    private final Hypervisor hypervisor;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PageTrack pageTrack;

    @Activate
    public TrackCommands(@Reference Hypervisor hypervisor) {
        super("track");
        this.hypervisor = hypervisor;
    }

    @Descriptor("track a gfn once more, owned by the shell (kvm_slot_page_track_add_page): in write mode its"
            + " mappings are write-protected and guest writes to it are emulated and reported")
    public Object add(
            @Descriptor(MODE) @Parameter(names = "--mode", absentValue = "write") String mode,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("guest frame number (gpa >> 12) inside a memslot, 0x hex or decimal") String gfn) {
        return run("add", help, json, () -> change(true, vm, gfn, mode));
    }

    @Descriptor("drop one of the shell's own tracks of a gfn (kvm_slot_page_track_remove_page); mappings"
            + " regain write access lazily, on the next write fault")
    public Object remove(
            @Descriptor(MODE) @Parameter(names = "--mode", absentValue = "write") String mode,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("guest frame number (gpa >> 12) inside a memslot, 0x hex or decimal") String gfn) {
        return run("remove", help, json, () -> change(false, vm, gfn, mode));
    }

    private TrackChange change(boolean add, String vmName, String gfnText, String modeText) {
        PageTrack pt = require(pageTrack);
        Vm v = vm(hypervisor, vmName);
        long gfn = Numbers.address("GFN", gfnText);
        TrackMode mode = TrackMode.parse(modeText);
        boolean applied = add ? pt.add(v, gfn, mode) : pt.remove(v, gfn, mode);
        return new TrackChange(v.name(), add ? "add" : "remove", gfn, mode, applied, pt.count(v, gfn, mode),
                pt.owner(), pt.isActive(v, gfn, mode));
    }

    @Descriptor("is a gfn tracked (kvm_slot_page_track_is_active)? false for a gfn in no memslot")
    public Object active(
            @Descriptor(MODE) @Parameter(names = "--mode", absentValue = "write") String mode,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("guest frame number (gpa >> 12), 0x hex or decimal") String gfn) {
        return run("active", help, json, () -> {
            PageTrack pt = require(pageTrack);
            Vm v = vm(hypervisor, vm);
            long g = Numbers.address("GFN", gfn);
            TrackMode m = TrackMode.parse(mode);
            return new TrackActive(v.name(), g, m, pt.isActive(v, g, m), pt.count(v, g, m));
        });
    }

    @Descriptor("list a VM's tracked gfns: mode, count, and the tracks each owner (bundle) holds")
    public Object list(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("list", help, json, () -> {
            PageTrack pt = require(pageTrack);
            List<TrackedPage> pages = pt.tracked(vm(hypervisor, vm));
            Set<String> shared = sharedNames(pages);
            List<TrackRow> rows = new ArrayList<>();
            for (TrackedPage p : pages) {
                Map<String, Integer> owners = new LinkedHashMap<>();
                for (TrackedPage.Holder h : p.holders()) {
                    Owner o = h.owner();
                    owners.merge(shared.contains(o.symbolicName()) ? o.label() : o.symbolicName(), h.count(), Integer::sum);
                }
                rows.add(new TrackRow(p.gfn(), p.mode(), p.count(), owners));
            }
            return Table.of(TrackRow.class, rows);
        });
    }

    /**
     * The symbolic names that more than one owner (bundle) holds tracks under: those owners are
     * shown as "name [bundle id]", so that two bundles of one name never read as one.
     */
    private static Set<String> sharedNames(List<TrackedPage> pages) {
        Map<String, Set<Long>> ids = new HashMap<>();
        for (TrackedPage p : pages) {
            for (TrackedPage.Holder h : p.holders()) {
                ids.computeIfAbsent(h.owner().symbolicName(), k -> new HashSet<>()).add(h.owner().bundleId());
            }
        }
        Set<String> shared = new HashSet<>();
        ids.forEach((name, set) -> {
            if (set.size() > 1) {
                shared.add(name);
            }
        });
        return shared;
    }

    @Descriptor("list page-track notifiers, newest (first called) first: bundle, calls, failures, disabled, last error")
    public Object notifiers(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name (optional: every VM when left out)") String vm) {
        return run("notifiers", help, json, () -> notifierTable(List.of(vm(hypervisor, vm))));
    }

    @Descriptor("list page-track notifiers, newest (first called) first: bundle, calls, failures, disabled, last error")
    public Object notifiers(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help) {
        return run("notifiers", help, json, () -> notifierTable(hypervisor.vms()));
    }

    private Table notifierTable(List<Vm> vms) {
        PageTrack pt = require(pageTrack);
        List<NotifierRow> rows = new ArrayList<>();
        for (Vm v : vms) {
            for (NotifierInfo n : pt.notifiers(v)) {
                rows.add(new NotifierRow(v.name(), n.name(), n.bundle(), n.calls(), n.failures(), n.disabled(),
                        n.lastError()));
            }
        }
        return Table.of(NotifierRow.class, rows);
    }
}
