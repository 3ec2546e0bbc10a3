package org.shadowbox.run.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.shadowbox.run.internal.CostModel.Item;
import org.shadowbox.run.internal.ReportData.Row;

/** The reports as the shell prints them: aligned tables, seconds at the simulated clock. */
final class ReportText {
    private ReportText() {
    }

    static String seconds(double s) {
        return String.format(Locale.ROOT, s < 10 ? "%.5f" : "%.2f", s);
    }

    static String percent(double p) {
        return Double.isNaN(p) ? "new" : String.format(Locale.ROOT, "%+.2f%%", p);
    }

    static String clock(CostModel m) {
        return m.clockMhz() % 1000 == 0 ? (m.clockMhz() / 1000) + " GHz" : m.clockMhz() + " MHz";
    }

    static String memory(long bytes) {
        return bytes % (1L << 30) == 0 ? (bytes >> 30) + " GiB"
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    static String paging(String p) {
        return p.equals("64") ? "64-bit" : p.equals("32") ? "32-bit" : p.toUpperCase(Locale.ROOT);
    }

    /** " on N host threads" when the vCPUs ran on more than one host thread, else nothing. */
    static String threads(RunReport r) {
        return r.threads() > 1 ? " on " + r.threads() + " host threads" : "";
    }

    static String text(RunReport r) {
        List<String> out = new ArrayList<>();
        out.add(r.scenario() + " on VM " + r.vm() + ": scale " + r.scale() + ", seed " + r.seed() + ", " + r.vcpus()
                + " vCPUs" + threads(r) + ", " + memory(r.memoryBytes()) + ", mmu=" + r.mmu() + ", policy=" + r.policy() + ", "
                + paging(r.paging()) + " guest");
        out.add("simulated at " + clock(r.model()) + " (real: the busiest vCPU; user, sys: summed over vCPUs)");
        out.add("");
        out.add(String.format(Locale.ROOT, "real  %12s s", seconds(r.time().realSeconds())));
        out.add(String.format(Locale.ROOT, "user  %12s s", seconds(r.time().userSeconds())));
        out.add(String.format(Locale.ROOT, "sys   %12s s", seconds(r.time().sysSeconds())));
        out.add("");
        out.add(String.format(Locale.ROOT, "%-60s %12s %14s %14s", "work", "count", "user cycles", "sys cycles"));
        for (Item i : Item.values()) {
            out.add(String.format(Locale.ROOT, "%-60s %12d %14d %14d", i.label + " (" + i.key + " " + r.model().cycles(i)
                    + ")", r.time().counts().get(i), r.time().userByItem().get(i), r.time().sysByItem().get(i)));
        }
        out.add("");
        for (Map.Entry<String, Long> e : r.events().entrySet()) {
            out.add(String.format(Locale.ROOT, "%-22s %14d", e.getKey(), e.getValue()));
        }
        out.add("");
        out.add("guest memory checksum 0x" + Long.toHexString(r.checksum()) + "; host time "
                + String.format(Locale.ROOT, "%.2f s (%.1f million guest accesses per host second)", r.hostNanos() / 1e9,
                        r.accessesPerHostSecond() / 1e6));
        return String.join("\n", out);
    }

    static String text(Comparison c, List<String> files) {
        return text(c, files, null);
    }

    /** The comparison, with the prediction made before it and the verdict when there is one. */
    static String text(Comparison c, List<String> files, Prediction p) {
        RunReport b = c.before();
        List<String> out = new ArrayList<>();
        out.add(b.scenario() + ": scale " + b.scale() + ", seed " + b.seed() + "; two fresh VMs of " + b.vcpus()
                + " vCPUs" + threads(b) + " and " + memory(b.memoryBytes()) + ", mmu=" + b.mmu() + ", " + paging(b.paging()) + " guest"
                + (b.warmup() > 0 ? "; the first " + b.warmup() + " units uncharged (warm-up)" : ""));
        out.add("simulated at " + clock(b.model()) + " (real: the busiest vCPU; user, sys: summed over vCPUs)");
        out.add("");
        out.add(String.format(Locale.ROOT, "%-22s %14s %14s %9s", "", "legacy", "pagetrack", "change"));
        for (Row row : ReportData.rows(c)) {
            boolean s = row.unit().equals("s");
            boolean mean = row.unit().equals("mean");
            String name = s ? row.metric() + " (s)" : row.metric();
            out.add(String.format(Locale.ROOT, "%-22s %14s %14s %9s", name,
                    s ? seconds(row.before()) : mean ? String.format(Locale.ROOT, "%.3f", row.before()) : Long.toString((long) row.before()),
                    s ? seconds(row.after()) : mean ? String.format(Locale.ROOT, "%.3f", row.after()) : Long.toString((long) row.after()),
                    percent(row.change())));
            if (row.metric().equals("sys")) {
                out.add("");
            }
        }
        out.add("");
        out.add(String.format(Locale.ROOT, "%-22s %14.2f %14.2f %9s", "seed paper: real (s)", ReportData.SEED_BEFORE[0],
                ReportData.SEED_AFTER[0], percent(Comparison.change(ReportData.SEED_BEFORE[0], ReportData.SEED_AFTER[0]))));
        out.add(String.format(Locale.ROOT, "%-22s %14.2f %14.2f %9s", "seed paper: user (s)", ReportData.SEED_BEFORE[1],
                ReportData.SEED_AFTER[1], percent(Comparison.change(ReportData.SEED_BEFORE[1], ReportData.SEED_AFTER[1]))));
        out.add(String.format(Locale.ROOT, "%-22s %14.2f %14.2f %9s", "seed paper: sys (s)", ReportData.SEED_BEFORE[2],
                ReportData.SEED_AFTER[2], percent(Comparison.change(ReportData.SEED_BEFORE[2], ReportData.SEED_AFTER[2]))));
        out.add("");
        if (p != null) {
            out.add(p.text(6));
            out.add(Prediction.verdict(p, c));
            out.add("");
        }
        if (!c.comparable()) {
            out.add("guest-visible results: not compared (" + b.threads() + " vCPU threads: the interleaving is the"
                    + " host's, so the counts differ run to run; each run's guest memory was verified)");
        } else if (c.identical()) {
            out.add("guest-visible results: identical (every guest count, memory checksum 0x"
                    + Long.toHexString(b.checksum()) + ")");
        } else {
            out.add("guest-visible results: DIFFERENT: " + String.join("; ", c.differences()));
        }
        out.add(String.format(Locale.ROOT, "host time: legacy %.2f s, pagetrack %.2f s (%.1f and %.1f million guest"
                + " accesses per host second)", b.hostNanos() / 1e9, c.after().hostNanos() / 1e9,
                b.accessesPerHostSecond() / 1e6, c.after().accessesPerHostSecond() / 1e6));
        if (!files.isEmpty()) {
            out.add("files: " + String.join(", ", files));
        }
        return String.join("\n", out);
    }
}
