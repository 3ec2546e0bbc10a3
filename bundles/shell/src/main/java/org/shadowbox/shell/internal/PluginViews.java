package org.shadowbox.shell.internal;

import java.util.List;

/** The records {@code plugin:list} and {@code plugin:diag} return. */
public final class PluginViews {
    private PluginViews() {
    }

    /**
     * A row of plugin:list: one tracker bundle.
     *
     * @param bundle   symbolic name
     * @param id       bundle id
     * @param state    installed, resolved, starting, active, stopping
     * @param version  its version
     * @param mode     how its notifiers are called: direct (on the vCPU thread), isolated (on courier
     *                 threads, guard.isolate), or both when it has several notifiers
     * @param vms      the VMs its notifiers are attached to
     * @param tracked  pages it holds tracks on, over all VMs
     * @param calls    calls into its notifiers
     * @param failures calls that threw
     * @param timeouts calls that overran the guard's timeout
     * @param timeMs   time spent in its notifiers (estimated from the guard's sample), ms
     * @param slow     calls of 10 ms or more
     * @param abandoned calls timed out and abandoned that still run (a vCPU thread held, or a courier
     *                 thread left behind); unregistering does not wait for them
     * @param status   ok, disabled (and why), abandoned calls, a call running for long, or not running
     */
    public record PluginRow(String bundle, long id, String state, String version, String mode, List<String> vms,
            long tracked, long calls, long failures, long timeouts, String timeMs, long slow, int abandoned,
            String status) implements View {
        public PluginRow {
            vms = List.copyOf(vms);
        }
    }

    /**
     * plugin:isolate: the bundle's new setting, as written to the page-track configuration.
     *
     * @param bundle   the symbolic name given, or *
     * @param isolated whether its notifiers are now to run on courier threads
     * @param isolate  guard.isolate as written
     * @param inForce  whether the guard has taken the new setting (Configuration Admin is asynchronous)
     * @param pending  true when no installed bundle has that symbolic name (accepted only with --pending): the
     *                 setting waits for a bundle of that name to be deployed
     */
    public record PluginIsolate(String bundle, boolean isolated, List<String> isolate, boolean inForce,
            boolean pending)
            implements View {
        public PluginIsolate {
            isolate = List.copyOf(isolate);
        }
    }

    /**
     * plugin:diag: why a bundle does or does not resolve and start, one readable line per finding.
     *
     * @param bundle   symbolic name
     * @param id       bundle id
     * @param state    its state
     * @param version  its version
     * @param location where it was installed from
     * @param findings one line each
     */
    public record PluginDiag(String bundle, long id, String state, String version, String location,
            List<String> findings) implements View {
        public PluginDiag {
            findings = List.copyOf(findings);
        }

        /** Karaf's diag layout: a header line, then one finding per line. */
        String text() {
            StringBuilder sb = new StringBuilder(bundle + " [" + id + "] " + version + " " + state + " (" + location + ")");
            for (String f : findings) {
                sb.append("\n  ").append(f);
            }
            return sb.toString();
        }
    }
}
