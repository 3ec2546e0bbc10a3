package org.shadowbox.run.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.shadowbox.run.internal.CostModel.Item;

/** The reports as data: the rows of the seed-style table, the JSON values and the CSV file. */
final class ReportData {
    /** The seed's figures (kernel build, shadow paging, before and after the series), for the record. */
    static final double[] SEED_BEFORE = {461.63, 4529.55, 1995.39};
    static final double[] SEED_AFTER = {455.48, 4557.88, 1922.57};

    private ReportData() {
    }

    /** One row of the side-by-side table. */
    record Row(String metric, String unit, double before, double after) {
        double change() {
            return Comparison.change(before, after);
        }
    }

    /** real, user, sys, then every event count. */
    static List<Row> rows(Comparison c) {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("real", "s", c.before().time().realSeconds(), c.after().time().realSeconds()));
        rows.add(new Row("user", "s", c.before().time().userSeconds(), c.after().time().userSeconds()));
        rows.add(new Row("sys", "s", c.before().time().sysSeconds(), c.after().time().sysSeconds()));
        Map<String, Long> after = c.after().events();
        c.before().events().forEach((k, v) -> rows.add(new Row(k, "count", v, after.get(k))));
        rows.add(new Row("mean hash chain", "mean", c.before().meanHashChain(), c.after().meanHashChain()));
        return rows;
    }

    static Map<String, Object> json(RunReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", r.scenario());
        m.put("vm", r.vm());
        m.put("mmu", r.mmu());
        m.put("policy", r.policy());
        m.put("paging", r.paging());
        m.put("vcpus", r.vcpus());
        m.put("threads", r.threads());
        m.put("memory_bytes", r.memoryBytes());
        m.put("scale", r.scale());
        m.put("seed", r.seed());
        m.put("clock_mhz", r.model().clockMhz());
        m.put("real_s", r.time().realSeconds());
        m.put("user_s", r.time().userSeconds());
        m.put("sys_s", r.time().sysSeconds());
        m.put("vcpu_user_cycles", r.time().userCycles());
        m.put("vcpu_sys_cycles", r.time().sysCycles());
        m.put("events", r.events());
        m.put("mean_hash_chain", r.meanHashChain());
        m.put("warmup_units", r.warmup());
        Map<String, Object> work = new LinkedHashMap<>();
        for (Item i : Item.values()) {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("count", r.time().counts().get(i));
            w.put("cycles_each", r.model().cycles(i));
            w.put("user_cycles", r.time().userByItem().get(i));
            w.put("sys_cycles", r.time().sysByItem().get(i));
            work.put(i.key, w);
        }
        m.put("work", work);
        m.put("notifiers", r.notifiers());
        m.put("mmu_stats", r.mmuStats());
        m.put("guest_counts", r.counts().asMap());
        m.put("checksum", "0x" + Long.toHexString(r.checksum()));
        m.put("host_s", r.hostNanos() / 1e9);
        if (r.hostCpuNanos() >= 0) {
            m.put("host_cpu_s", r.hostCpuNanos() / 1e9);
        }
        m.put("accesses_per_host_s", r.accessesPerHostSecond());
        return m;
    }

    static Map<String, Object> json(Comparison c, List<String> files) {
        return json(c, files, null);
    }

    /** The comparison as JSON, with the prediction made before it (null: none). */
    static Map<String, Object> json(Comparison c, List<String> files, Prediction p) {
        Map<String, Object> m = new LinkedHashMap<>();
        RunReport b = c.before();
        m.put("scenario", b.scenario());
        m.put("scale", b.scale());
        m.put("seed", b.seed());
        m.put("mmu", b.mmu());
        m.put("paging", b.paging());
        m.put("vcpus", b.vcpus());
        m.put("threads", b.threads());
        m.put("memory_bytes", b.memoryBytes());
        m.put("warmup_units", b.warmup());
        m.put("cost_model", b.model().asMap());
        List<Object> table = new ArrayList<>();
        for (Row row : rows(c)) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("metric", row.metric());
            t.put("unit", row.unit());
            boolean real = !row.unit().equals("count");
            t.put("legacy", real ? (Object) row.before() : (Object) (long) row.before());
            t.put("pagetrack", real ? (Object) row.after() : (Object) (long) row.after());
            t.put("change_percent", row.change());
            table.add(t);
        }
        m.put("table", table);
        m.put("comparable", c.comparable());
        m.put("identical", c.identical());
        m.put("differences", c.differences());
        Map<String, Object> seed = new LinkedHashMap<>();
        seed.put("real_s", List.of(SEED_BEFORE[0], SEED_AFTER[0]));
        seed.put("user_s", List.of(SEED_BEFORE[1], SEED_AFTER[1]));
        seed.put("sys_s", List.of(SEED_BEFORE[2], SEED_AFTER[2]));
        m.put("seed_kernel_build_before_after", seed);
        if (p != null) {
            Map<String, Object> pj = p.json();
            double sys = Comparison.change(b.time().sysSeconds(), c.after().time().sysSeconds());
            double real = Comparison.change(b.time().realSeconds(), c.after().time().realSeconds());
            pj.put("measured_sys_change_percent", sys);
            pj.put("measured_real_change_percent", real);
            pj.put("sys_inside", p.sys().contains(sys));
            pj.put("real_inside", p.real().contains(real));
            m.put("prediction", pj);
        }
        m.put("files", files);
        m.put("legacy", json(b));
        m.put("pagetrack", json(c.after()));
        return m;
    }

    /** metric,unit,legacy,pagetrack,change_percent; seconds with 9 decimals, counts as integers. */
    static String csv(Comparison c) {
        StringBuilder sb = new StringBuilder("metric,unit,legacy,pagetrack,change_percent\n");
        for (Row row : rows(c)) {
            boolean s = !row.unit().equals("count");
            sb.append('"').append(row.metric()).append("\",").append(row.unit()).append(',')
                    .append(s ? String.format(Locale.ROOT, "%.9f", row.before()) : Long.toString((long) row.before()))
                    .append(',')
                    .append(s ? String.format(Locale.ROOT, "%.9f", row.after()) : Long.toString((long) row.after()))
                    .append(',')
                    .append(Double.isNaN(row.change()) ? "" : String.format(Locale.ROOT, "%.4f", row.change()))
                    .append('\n');
        }
        sb.append("\"host time\",s,").append(String.format(Locale.ROOT, "%.3f", c.before().hostNanos() / 1e9)).append(',')
                .append(String.format(Locale.ROOT, "%.3f", c.after().hostNanos() / 1e9)).append(",\n");
        return sb.toString();
    }
}
