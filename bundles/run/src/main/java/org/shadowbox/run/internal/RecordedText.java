package org.shadowbox.run.internal;

import java.util.Locale;
import java.util.Map;

import org.shadowbox.guest.GuestCounts;

/**
 * The section a replay of a recorded workload adds to a report: the recorded figures beside the
 * simulated guest's (processes, execs, first touches against the recorded minor faults, CPU time
 * against the work charged for it), then what the replay could not re-enact exactly.
 */
final class RecordedText {
    private RecordedText() {
    }

    static String text(Map<String, Object> rec, GuestCounts c) {
        StringBuilder b = new StringBuilder();
        b.append("recorded workload: ").append(rec.get("trace")).append(System.lineSeparator());
        b.append(String.format(Locale.ROOT, "  %-34s %14s %14s%n", "", "RECORDED", "SIMULATED"));
        row(b, "processes", num(rec, "recorded_processes"), c.processes());
        row(b, "execs", num(rec, "recorded_execs"), c.execs());
        row(b, "first touches (minor faults)", num(rec, "recorded_minor_faults"), num(rec, "first_touches"));
        b.append(String.format(Locale.ROOT, "  %-34s %13.3fs %14s%n", "CPU time (user + sys)", num(rec, "recorded_cpu_us") / 1e6,
                (num(rec, "user_accesses_retired") + num(rec, "sys_accesses_retired")) + " acc"));
        b.append(String.format(Locale.ROOT, "  %-34s %13.3fs%n", "wall time of the recording", num(rec, "recorded_wall_us") / 1e6));
        b.append("  re-enacted on part of an area (split first):");
        for (String k : new String[] {"partial_mprotects", "partial_munmaps", "map_fixed_replaced", "areas_split"}) {
            b.append(' ').append(k).append('=').append(num(rec, k));
        }
        b.append(System.lineSeparator()).append("  not re-enacted exactly:");
        for (String k : new String[] {"first_touches_unplaced", "brk_shrinks_skipped", "waits_without_child",
                "mremaps_as_remap", "mremaps_skipped"}) {
            b.append(' ').append(k).append('=').append(num(rec, k));
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String what, long recorded, long simulated) {
        b.append(String.format(Locale.ROOT, "  %-34s %14d %14d%n", what, recorded, simulated));
    }

    private static long num(Map<String, Object> m, String k) {
        return m.get(k) instanceof Number n ? n.longValue() : 0;
    }
}
