package org.shadowbox.audit.internal;

import static org.shadowbox.audit.internal.Numbers.hex;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.StringJoiner;

/** Renders the audit commands' results, as text for people or as one JSON value. */
final class AuditFormat {

    private AuditFormat() {
    }

    /**
     * What {@code audit:watch} and {@code audit:unwatch} did.
     *
     * @param vm         the VM's name
     * @param gfn        the page
     * @param watching   whether the audit watches it now
     * @param trackCount page track's count for the gfn afterwards (all owners)
     */
    record WatchResult(String vm, long gfn, boolean watching, int trackCount) {
    }

    /**
     * What {@code audit:log} shows.
     *
     * @param vm      the VM's name
     * @param watched the gfns watched now, ascending
     * @param log     the recorded entries and totals
     */
    record LogResult(String vm, long[] watched, WriteLog.Snapshot log) {
    }

    /**
     * An entry's time, UTC to the millisecond, always 24 characters: {@link Instant#toString}
     * leaves out a fraction of zero ({@code ...:07Z} on a whole second), which shifted the log's
     * columns one time in a thousand.
     */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX")
            .withZone(ZoneOffset.UTC);

    static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    static String text(WatchResult r) {
        return (r.watching() ? "watching gfn " : "stopped watching gfn ") + hex(r.gfn()) + " of VM " + r.vm()
                + " (page-track count " + r.trackCount() + ")";
    }

    static String json(WatchResult r) {
        return new Json().beginObject()
                .name("vm").string(r.vm())
                .name("gfn").number(r.gfn())
                .name("watching").bool(r.watching())
                .name("trackCount").number(r.trackCount())
                .endObject().toString();
    }

    static String text(LogResult r) {
        WriteLog.Snapshot s = r.log();
        StringJoiner gfns = new StringJoiner(", ");
        for (long g : r.watched()) {
            gfns.add(hex(g));
        }
        StringBuilder out = new StringBuilder();
        out.append("VM ").append(r.vm()).append(": ").append(s.recorded()).append(" recorded, ")
                .append(s.dropped()).append(" dropped (keeps ").append(s.capacity()).append("); watching ")
                .append(r.watched().length == 0 ? "nothing" : gfns.toString());
        if (!s.entries().isEmpty()) {
            out.append(String.format("%n%8s  %-24s  %4s  %-14s  %4s  %s", "SEQ", "TIME", "VCPU", "GPA", "SIZE", "VALUE"));
        }
        for (AuditEntry e : s.entries()) {
            out.append(String.format("%n%8d  %-24s  ", e.seq(), time(e.timeMillis())));
            if (e instanceof AuditEntry.Write w) {
                out.append(String.format("%4d  %-14s  %4d  %s", w.vcpu(), hex(w.gpa()), w.size(), hex(w.value())));
            } else if (e instanceof AuditEntry.RegionRemoved rr) {
                out.append("slot deleted: gfn ").append(hex(rr.gfn())).append(" + ").append(hex(rr.npages()))
                        .append(" pages, stopped watching ").append(rr.forgotten()).append(" gfn(s)");
            }
        }
        return out.toString();
    }

    static String json(LogResult r) {
        WriteLog.Snapshot s = r.log();
        Json j = new Json().beginObject()
                .name("vm").string(r.vm())
                .name("capacity").number(s.capacity())
                .name("recorded").number(s.recorded())
                .name("dropped").number(s.dropped())
                .name("watched").beginArray();
        for (long g : r.watched()) {
            j.number(g);
        }
        j.endArray().name("entries").beginArray();
        for (AuditEntry e : s.entries()) {
            j.beginObject().name("seq").number(e.seq())
                    .name("time").string(time(e.timeMillis()));
            if (e instanceof AuditEntry.Write w) {
                j.name("event").string("write").name("vcpu").number(w.vcpu()).name("gpa").number(w.gpa())
                        .name("size").number(w.size()).name("value").unsigned(w.value());
            } else if (e instanceof AuditEntry.RegionRemoved rr) {
                j.name("event").string("remove-region").name("gfn").number(rr.gfn())
                        .name("npages").number(rr.npages()).name("forgotten").number(rr.forgotten());
            }
            j.endObject();
        }
        return j.endArray().endObject().toString();
    }
}
