package org.shadowbox.guest;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A {@link Scenario} that replays a recorded workload (a trace written by {@code tools/record.sh}):
 * it can say what was recorded beside what its last run simulated, so that a report shows both.
 *
 * @since 1.2
 */
@ProviderType
public interface RecordedWorkload {
    /**
     * The recorded figures ({@code recorded_processes}, {@code recorded_execs},
     * {@code recorded_minor_faults}, {@code recorded_cpu_us}, {@code recorded_wall_us}) and those
     * of the last replay (first touches made and unplaced, accesses retired, events the model could
     * not re-enact exactly), by snake-case name, in a stable order. Values are numbers, strings or booleans.
     */
    Map<String, Object> report();
}
