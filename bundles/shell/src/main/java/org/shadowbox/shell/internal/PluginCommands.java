package org.shadowbox.shell.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.spi.PlatformBundles;
import org.shadowbox.pagetrack.guard.GuardMonitor;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.shell.internal.PluginViews.PluginDiag;
import org.shadowbox.shell.internal.PluginViews.PluginIsolate;
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
        "osgi.command.function=diag", "osgi.command.function=isolate"})
public class PluginCommands extends CommandSupport {
    private static final String PAGETRACK_BSN = "org.shadowbox.pagetrack";
    private static final String PAGETRACK_PACKAGE = "org.shadowbox.pagetrack";
    /** The page-track configuration PID and its isolation key. */
    private static final String PAGETRACK_PID = "org.shadowbox.pagetrack";
    private static final String ISOLATE = "guard.isolate";
    private static final Pattern SYMBOLIC_NAME = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");

    private final BundleContext context;
    private final Hypervisor hypervisor;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PageTrack pageTrack;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile GuardMonitor guard;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ConfigurationAdmin configAdmin;

    /** Who is the platform, and which bundles it refuses (reserved symbolic names). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PlatformBundles platformBundles;

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

    @Descriptor("isolate a tracker bundle: its notifiers are called on courier threads of their own, so that a call"
            + " that does not return within guard.timeoutMillis is abandoned and the vCPU goes on even if the callback"
            + " ignores interrupts (costs a thread hand-off per call); sets guard.isolate in the page-track configuration")
    public Object isolate(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("call it on the vCPU thread again") @Parameter(names = "--off", presentValue = ON, absentValue = OFF)
            String off,
            @Descriptor("isolate a bundle that is not installed yet: the setting waits for its deployment")
            @Parameter(names = "--pending", presentValue = ON, absentValue = OFF) String pending,
            @Descriptor("bundle id (plugin:list), symbolic name, or * for every bundle but Shadowbox's own") String bundle) {
        return run("isolate", help, json, () -> setIsolated(bundle, !ON.equals(off), ON.equals(pending)));
    }

    PluginIsolate setIsolated(String bundle, boolean on, boolean allowPending) {
        String arg = bundle == null ? "" : bundle.trim();
        String name = isolateName(arg);
        boolean installed = name.equals("*")
                || java.util.Arrays.stream(context.getBundles()).anyMatch(b -> name.equals(b.getSymbolicName()));
        if (on && !installed && !allowPending) {
            throw new VmException("no installed bundle is named " + name + ": accepted the id or symbolic name of an"
                    + " installed bundle (plugin:list), *, or plugin:isolate --pending " + name
                    + " to isolate it before it is deployed");
        }
        ConfigurationAdmin cm = configAdmin;
        GuardMonitor g = guard;
        if (cm == null || g == null) {
            throw new VmException("plugin:isolate needs Configuration Admin and the page-track bundle running;"
                    + " otherwise set guard.isolate in workspace/config/" + PAGETRACK_PID + ".cfg");
        }
        try {
            Configuration c = cm.getConfiguration(PAGETRACK_PID, "?");
            Dictionary<String, Object> props = c.getProperties();
            if (props == null) {
                props = new Hashtable<>();
            }
            List<String> list = new ArrayList<>(isolateValues(props.get(ISOLATE)));
            if (on && !list.contains(name)) {
                list.add(name);
            } else if (!on && !list.remove(name)) {
                throw new VmException(name + " is not isolated by name" + (list.contains("*") && !name.equals("*")
                        ? " (guard.isolate has *: use plugin:isolate --off * first)" : "") + "; guard.isolate is "
                        + (list.isEmpty() ? "empty" : String.join(",", list)));
            }
            props.put(ISOLATE, String.join(",", list)); // a String: FileInstall writes it back to the .cfg as is
            c.update(props);
            long deadline = System.nanoTime() + 5_000_000_000L;
            boolean inForce = g.isolate().equals(list);
            while (!inForce && System.nanoTime() < deadline) {
                Thread.sleep(10);
                inForce = g.isolate().equals(list);
            }
            return new PluginIsolate(name, on, list, inForce, on && !installed);
        } catch (IOException e) {
            throw new VmException("cannot update the page-track configuration: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("interrupted while the page-track configuration was being updated");
        }
    }

    /**
     * The symbolic name plugin:isolate writes to guard.isolate for {@code arg}: a bundle id (as
     * plugin:list and plugin:diag show it), or a symbolic name that at most one installed bundle
     * has (several: refused with their ids), or *. The guard isolates by symbolic name, so an id
     * whose name other bundles share isolates them too (the written list says so).
     */
    private String isolateName(String arg) {
        if (!arg.isEmpty() && arg.chars().allMatch(Character::isDigit)) {
            long id;
            try {
                id = Long.parseLong(arg);
            } catch (NumberFormatException e) {
                throw new VmException("no bundle " + arg + ": a bundle id is at most " + Long.MAX_VALUE
                        + "; accepted the id of an installed bundle (plugin:list), a symbolic name, or *");
            }
            Bundle b = context.getBundle(id);
            if (b == null || b.getSymbolicName() == null) {
                throw new VmException("no installed bundle has id " + id + ": accepted the id of an installed bundle"
                        + " (plugin:list), a symbolic name, or *");
            }
            return b.getSymbolicName();
        }
        if (!arg.equals("*") && !SYMBOLIC_NAME.matcher(arg).matches()) {
            throw new VmException("not a bundle id or symbolic name: '" + arg + "': accepted a bundle id (plugin:list),"
                    + " a symbolic name (com.example.tracker) or *");
        }
        List<String> ids = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (arg.equals(b.getSymbolicName())) {
                ids.add(Long.toString(b.getBundleId()));
            }
        }
        if (ids.size() > 1) {
            throw new VmException(ids.size() + " installed bundles are named " + arg + " (ids " + String.join(", ", ids)
                    + "): accepted one of those ids (plugin:list); guard.isolate holds symbolic names, so every bundle"
                    + " named " + arg + " is isolated with it");
        }
        return arg;
    }

    /** guard.isolate as Configuration Admin holds it: a comma-separated String, an array or a collection. */
    private static List<String> isolateValues(Object v) {
        List<String> raw = new ArrayList<>();
        if (v instanceof String s) {
            raw.add(s);
        } else if (v instanceof String[] a) {
            raw.addAll(Arrays.asList(a));
        } else if (v instanceof Collection<?> c) {
            c.forEach(x -> raw.add(String.valueOf(x)));
        }
        List<String> out = new ArrayList<>();
        for (String s : raw) {
            for (String t : s.split("[,\\s]+")) {
                if (!t.isEmpty() && !out.contains(t)) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    List<PluginRow> rows() {
        List<GuardRecord> records = guard == null ? List.of() : guard.notifiers();
        Map<Long, Long> tracked = trackedByOwner();
        Set<Bundle> trackers = new LinkedHashSet<>();
        for (Bundle b : context.getBundles()) {
            String bsn = b.getSymbolicName();
            if (bsn == null || bsn.equals(PAGETRACK_BSN)) {
                continue;
            }
            boolean notifies = records.stream().anyMatch(r -> ofBundle(r, b)) || registersNotifier(b);
            boolean importsPageTrack = b.getState() != Bundle.ACTIVE && imports(b, PAGETRACK_PACKAGE);
            if (notifies || tracked.containsKey(b.getBundleId()) || importsPageTrack) {
                trackers.add(b);
            }
        }
        List<PluginRow> rows = new ArrayList<>();
        for (Bundle b : trackers) {
            String bsn = b.getSymbolicName();
            Set<String> vms = new LinkedHashSet<>();
            long calls = 0, failures = 0, timeouts = 0, nanos = 0, slow = 0;
            List<String> status = new ArrayList<>();
            int notifiers = 0, isolated = 0, abandoned = 0;
            for (GuardRecord r : records) {
                if (!ofBundle(r, b)) {
                    continue;
                }
                notifiers++;
                vms.addAll(r.vms());
                calls += r.calls();
                failures += r.failures();
                timeouts += r.timeouts();
                nanos += r.estimatedNanos();
                slow += r.slowCalls();
                isolated += r.isolated() ? 1 : 0;
                abandoned += r.abandoned();
                if (r.disabled()) {
                    status.add("disabled: " + r.reason());
                }
                if (r.abandoned() > 0) {
                    status.add(r.abandoned() + " abandoned call(s) still running" + (r.isolated()
                            ? " on courier threads" : ", holding vCPU threads (isolate it: plugin:isolate " + bsn + ")"));
                }
                if (r.running() > 0 && r.longestRunningMillis() >= 1000) {
                    status.add(r.running() + " call(s) running for " + r.longestRunningMillis() / 1000 + " s");
                }
            }
            String st = !status.isEmpty() ? String.join("; ", status)
                    : notifiers > 0 ? "ok" : b.getState() == Bundle.ACTIVE ? "no notifier"
                    : refusal(b) != null ? "refused: reserved symbolic name, see plugin:diag " + b.getBundleId()
                    : "not active: see plugin:diag " + bsn;
            String mode = notifiers == 0 ? "-" : isolated == 0 ? "direct" : isolated == notifiers ? "isolated" : "both";
            rows.add(new PluginRow(bsn, b.getBundleId(), BundleDiag.state(b), b.getVersion().toString(), mode,
                    new ArrayList<>(vms), tracked.getOrDefault(b.getBundleId(), 0L), calls, failures, timeouts,
                    String.format("%.1f", nanos / 1e6), slow, abandoned, st));
        }
        return rows;
    }

    /** Whether {@code r} is a notifier of bundle {@code b}: by id (by name only for a record without one). */
    private static boolean ofBundle(GuardRecord r, Bundle b) {
        return r.bundleId() >= 0 ? r.bundleId() == b.getBundleId() : r.bundle().equals(b.getSymbolicName());
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

    /** Pages each owner holds tracks on, over all VMs, by bundle id (never by name: two bundles may share one). */
    private Map<Long, Long> trackedByOwner() {
        Map<Long, Long> out = new TreeMap<>();
        PageTrack pt = pageTrack;
        if (pt == null) {
            return out;
        }
        for (Vm vm : hypervisor.vms()) {
            for (TrackedPage p : pt.tracked(vm)) {
                for (TrackedPage.Holder h : p.holders()) {
                    out.merge(h.owner().bundleId(), 1L, Long::sum);
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
            long id;
            try {
                id = Long.parseLong(n);
            } catch (NumberFormatException e) {
                throw new VmException("no bundle " + n + ": a bundle id is at most " + Long.MAX_VALUE
                        + "; accepted a symbolic name or an id that lb lists");
            }
            Bundle b = context.getBundle(id);
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

    /** The platform's one-line refusal of {@code b} (a reserved symbolic name), or null. */
    private String refusal(Bundle b) {
        PlatformBundles p = platformBundles;
        return p == null ? null : p.refusal(b.getBundleId());
    }

    PluginDiag diagnose(Bundle b) {
        List<String> findings = new ArrayList<>();
        switch (b.getState()) {
            case Bundle.INSTALLED -> {
                findings.add("not resolved:");
                String refused = refusal(b);
                if (refused != null) {
                    findings.add("  " + refused);
                } else {
                    BundleDiag.unresolved(context, b).forEach(l -> findings.add("  " + l));
                }
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
                if (!ofBundle(r, b)) {
                    continue;
                }
                findings.add("notifier " + r.name() + ": " + (r.disabled() ? "disabled, " + r.reason() : "enabled")
                        + (r.isolated() ? ", isolated (guard.isolate: called on courier threads)" : "")
                        + "; " + r.calls() + " calls, " + r.failures() + " failures, " + r.timeouts() + " timeouts"
                        + (r.lastError() == null ? "" : "; last: " + r.lastError()));
                if (r.abandoned() > 0) {
                    findings.add("notifier " + r.name() + ": " + r.abandoned() + " call(s) timed out and abandoned still"
                            + " run " + (r.isolated() ? "on courier threads left behind"
                                    : "on vCPU threads (a direct call cannot be left behind: plugin:isolate "
                                            + b.getSymbolicName() + ")")
                            + "; stopping the bundle does not wait for them");
                }
            }
        }
        if (findings.isEmpty()) {
            findings.add("active, nothing to report");
        }
        return new PluginDiag(b.getSymbolicName(), b.getBundleId(), BundleDiag.state(b), b.getVersion().toString(),
                b.getLocation(), findings);
    }
}
