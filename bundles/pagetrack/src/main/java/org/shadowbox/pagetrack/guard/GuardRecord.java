package org.shadowbox.pagetrack.guard;

import java.util.List;

/**
 * One notifier as the guard accounts for it.
 *
 * <p>Time is measured without burdening every call: one call in {@value #SAMPLE_EVERY} (the first,
 * then every {@value #SAMPLE_EVERY}th) is timed
 * with {@code System.nanoTime()} ({@link #sampledCalls}, {@link #sampledNanos}), and every call
 * that spans at least two ticks of the guard's 10 ms clock is counted as slow with its length
 * in ticks ({@link #slowCalls}, {@link #slowMillis}). {@link #estimatedNanos} extrapolates the
 * sample to all calls.
 *
 * @param bundle          symbolic name of the bundle that registered it
 * @param serviceId       its OSGi service id (-1 outside OSGi)
 * @param name            the implementing class
 * @param vms             the VMs it is attached to now
 * @param calls           calls made into it
 * @param failures        calls that threw
 * @param timeouts        calls that overran {@code guard.timeoutMillis}
 * @param slowCalls       calls of 10 ms or more (clock ticks, see above)
 * @param slowMillis      their summed length, in whole ticks
 * @param sampledCalls    calls timed exactly
 * @param sampledNanos    their summed time
 * @param estimatedNanos  time spent in it, extrapolated from the sample
 * @param running         calls into it running now
 * @param longestRunningMillis how long the oldest of those has run (0 if none)
 * @param disabled        deny-listed: attached and listed, never called again
 * @param reason          why it was disabled ({@code null} if it is not)
 * @param lastError       the last failure or timeout, one line, or {@code null}
 * @param isolated        called on courier threads, not on the vCPU's ({@code guard.isolate})
 * @param abandoned       calls timed out and abandoned that have not returned yet: vCPU threads held by a
 *                        direct call, or courier threads left behind by an isolated one; unregistering does
 *                        not wait for them
 * @param bundleId        the id of the bundle that registered it (-1 outside OSGi): what tells two bundles
 *                        of one symbolic name apart
 */
public record GuardRecord(String bundle, long serviceId, String name, List<String> vms, long calls, long failures,
        long timeouts, long slowCalls, long slowMillis, long sampledCalls, long sampledNanos, long estimatedNanos,
        int running, long longestRunningMillis, boolean disabled, String reason, String lastError, boolean isolated,
        int abandoned, long bundleId) {

    /** One call in this many is timed exactly. */
    public static final int SAMPLE_EVERY = 64;

    public GuardRecord {
        vms = List.copyOf(vms);
    }

    /** The 1.1 record: the bundle id unknown, -1. */
    public GuardRecord(String bundle, long serviceId, String name, List<String> vms, long calls, long failures,
            long timeouts, long slowCalls, long slowMillis, long sampledCalls, long sampledNanos, long estimatedNanos,
            int running, long longestRunningMillis, boolean disabled, String reason, String lastError, boolean isolated,
            int abandoned) {
        this(bundle, serviceId, name, vms, calls, failures, timeouts, slowCalls, slowMillis, sampledCalls, sampledNanos,
                estimatedNanos, running, longestRunningMillis, disabled, reason, lastError, isolated, abandoned, -1);
    }

    /** The 1.0 record: not isolated, no couriers, nothing abandoned. */
    public GuardRecord(String bundle, long serviceId, String name, List<String> vms, long calls, long failures,
            long timeouts, long slowCalls, long slowMillis, long sampledCalls, long sampledNanos, long estimatedNanos,
            int running, long longestRunningMillis, boolean disabled, String reason, String lastError) {
        this(bundle, serviceId, name, vms, calls, failures, timeouts, slowCalls, slowMillis, sampledCalls, sampledNanos,
                estimatedNanos, running, longestRunningMillis, disabled, reason, lastError, false, 0, -1);
    }
}
