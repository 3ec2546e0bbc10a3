package org.shadowbox.guest;

/**
 * One finished scenario run.
 *
 * @param scenario  the scenario's name
 * @param paging    the guest's paging mode ("64", "pae", "32")
 * @param vcpus     vCPUs used
 * @param scale     the scale run
 * @param seed      the seed run
 * @param counts    the guest's own counts
 * @param checksum  a hash of the guest's memory as read back after the run (the words the guest
 *                  believes it holds, verified equal to what it expects): equal for equal seeds
 * @param hostNanos host wall time of the run (boot, workload and verification)
 */
public record ScenarioResult(String scenario, String paging, int vcpus, long scale, long seed, GuestCounts counts,
        long checksum, long hostNanos) {

    /** Simulated guest memory accesses per host second. */
    public double accessesPerSecond() {
        return hostNanos == 0 ? 0 : counts.accesses() * 1e9 / hostNanos;
    }
}
