package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.pagetrack.guard.GuardMonitor;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.shell.internal.PluginViews.PluginDiag;
import org.shadowbox.shell.internal.PluginViews.PluginRow;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * {@code plugin:list} and {@code plugin:diag}: the tracker bundles as the plugin host sees them.
 * The host is page track's guard (containment, timeouts, deny-listing, time accounting, in the
 * page-track bundle where every call is made); these commands show its records per bundle with
 * the bundles' states and tracks, and explain, from the OSGi wiring API, why a bundle does not
 * resolve or start.
 */
@Component(service = Object.class, property = {"osgi.command.scope=plugin", "osgi.command.function=list",
        "osgi.command.function=diag"})
public class PluginCommands extends CommandSupport {
    private static final String PAGETRACK_BSN = "org.shadowbox.pagetrack";
    private static final String PAGETRACK_PACKAGE = "org.shadowbox.pagetrack";

    private final BundleContext context;
    private final Hypervisor hypervisor;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PageTrack pageTrack;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile GuardMonitor guard;

    @Activate
    public PluginCommands(@Reference Hypervisor hypervisor, BundleContext context) {
        super("plugin");
        this.hypervisor = hypervisor;
        this.context = context;
    }

    @Descriptor("list the tracker bundles (notifier services, page-track owners, bundles importing page track that"
            + " are not active): state, version, VMs, tracked pages, calls, failures, timeouts, time, disabled")
    public Object list(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help) {
        return run("list", help, json, () -> Table.of(PluginRow.class, rows()));
    }

    @Descriptor("explain why a bundle does not resolve or start (missing packages with their version ranges,"
            + " unsatisfied components, disabled notifiers), one line each")
    public Object diag(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("bundle symbolic name or id") String bundle) {
        return run("diag", help, OFF, () -> {
            PluginDiag d = diagnose(find(bundle));
            return ON.equals(json) ? Json.encode(d) : d.text();
        });
    }

    List<PluginRow> rows() {
        List<GuardRecord> records = guard == null ? List.of() : guard.notifiers();
        Map<String, Long> tracked = trackedByOwner();
        Set<Bundle> trackers = new LinkedHashSet<>();
        for (Bundle b : context.getBundles()) {
            String bsn = b.getSymbolicName();
            if (bsn == null || bsn.equals(PAGETRACK_BSN)) {
                continue;
            }
            boolean notifies = records.stream().anyMatch(r -> r.bundle().equals(bsn)) || registersNotifier(b);
            boolean importsPageTrack = b.getState() != Bundle.ACTIVE && imports(b, PAGETRACK_PACKAGE);
            if (notifies || tracked.containsKey(bsn) || importsPageTrack) {
                trackers.add(b);
            }
        }
        List<PluginRow> rows = new ArrayList<>();
        for (Bundle b : trackers) {
            String bsn = b.getSymbolicName();
            Set<String> vms = new LinkedHashSet<>();
            long calls = 0, failures = 0, timeouts = 0, nanos = 0, slow = 0;
            List<String> status = new ArrayList<>();
            int notifiers = 0;
            for (GuardRecord r : records) {
                if (!r.bundle().equals(bsn)) {
                    continue;
                }
                notifiers++;
                vms.addAll(r.vms());
                calls += r.calls();
                failures += r.failures();
                timeouts += r.timeouts();
                nanos += r.estimatedNanos();
                slow += r.slowCalls();
                if (r.disabled()) {
                    status.add("disabled: " + r.reason());
                }
                if (r.running() > 0 && r.longestRunningMillis() >= 1000) {
                    status.add(r.running() + " call(s) running for " + r.longestRunningMillis() / 1000 + " s");
                }
            }
            String st = !status.isEmpty() ? String.join("; ", status)
                    : notifiers > 0 ? "ok" : b.getState() == Bundle.ACTIVE ? "no notifier" : "not active: see plugin:diag " + bsn;
            rows.add(new PluginRow(bsn, b.getBundleId(), BundleDiag.state(b), b.getVersion().toString(), new ArrayList<>(vms),
                    tracked.getOrDefault(bsn, 0L), calls, failures, timeouts, String.format("%.1f", nanos / 1e6), slow, st));
        }
        return rows;
    }

    private boolean registersNotifier(Bundle b) {
        ServiceReference<?>[] refs = b.getRegisteredServices();
        if (refs == null) {
            return false;
        }
        for (ServiceReference<?> r : refs) {
            String[] classes = (String[]) r.getProperty(org.osgi.framework.Constants.OBJECTCLASS);
            for (String c : classes) {
                if (c.equals(PageTrackNotifier.class.getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean imports(Bundle b, String pkg) {
        BundleRevision rev = b.adapt(BundleRevision.class);
        if (rev == null) {
            return false;
        }
        return rev.getDeclaredRequirements(org.osgi.framework.namespace.PackageNamespace.PACKAGE_NAMESPACE).stream()
                .anyMatch(r -> String.valueOf(r.getDirectives().get("filter")).contains("(osgi.wiring.package=" + pkg + ")"));
    }

    /** Pages each owner holds tracks on, over all VMs. */
    private Map<String, Long> trackedByOwner() {
        Map<String, Long> out = new TreeMap<>();
        PageTrack pt = pageTrack;
        if (pt == null) {
            return out;
        }
        for (Vm vm : hypervisor.vms()) {
            for (TrackedPage p : pt.tracked(vm)) {
                for (String owner : p.owners().keySet()) {
                    out.merge(owner, 1L, Long::sum);
                }
            }
        }
        return out;
    }

    private Bundle find(String name) {
        if (name == null || name.isBlank()) {
            throw new VmException("missing bundle: give a symbolic name or a bundle id (plugin:list, lb)");
        }
        String n = name.trim();
        if (n.chars().allMatch(Character::isDigit)) {
            Bundle b = context.getBundle(Long.parseLong(n));
            if (b != null) {
                return b;
            }
        }
        Bundle found = null;
        for (Bundle b : context.getBundles()) {
            if (n.equals(b.getSymbolicName()) && (found == null || b.getVersion().compareTo(found.getVersion()) > 0)) {
                found = b;
            }
        }
        if (found == null) {
            throw new VmException("no bundle '" + n + "': accepted a symbolic name or an id that lb lists");
        }
        return found;
    }

    PluginDiag diagnose(Bundle b) {
        List<String> findings = new ArrayList<>();
        switch (b.getState()) {
            case Bundle.INSTALLED -> {
                findings.add("not resolved:");
                BundleDiag.unresolved(context, b).forEach(l -> findings.add("  " + l));
            }
            case Bundle.RESOLVED -> findings.add("resolved but not started: start " + b.getBundleId());
            case Bundle.STARTING -> findings.add("starting (lazy activation waits for its first class load)");
            default -> {
                // active or stopping: its components and notifiers say the rest
            }
        }
        findings.addAll(ComponentDiag.of(context, b));
        GuardMonitor g = guard;
        if (g != null) {
            for (GuardRecord r : g.notifiers()) {
                if (!r.bundle().equals(b.getSymbolicName())) {
                    continue;
                }
                findings.add("notifier " + r.name() + ": " + (r.disabled() ? "disabled, " + r.reason() : "enabled")
                        + "; " + r.calls() + " calls, " + r.failures() + " failures, " + r.timeouts() + " timeouts"
                        + (r.lastError() == null ? "" : "; last: " + r.lastError()));
            }
        }
        if (findings.isEmpty()) {
            findings.add("active, nothing to report");
        }
        return new PluginDiag(b.getSymbolicName(), b.getBundleId(), BundleDiag.state(b), b.getVersion().toString(),
                b.getLocation(), findings);
    }
}
