package org.shadowbox.run.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.shadowbox.run.internal.CostModel.Item;

/**
 * What a comparison can show, said before it runs: from a short calibration run's event counts
 * (both policies, the same VMs and seed, a smaller scale) and every figure's cited range
 * ({@link Item#low} to {@link Item#high}), the interval of the sys and real change the full run
 * can give, and which figures move it most.
 *
 * <p>The change is {@code 100 (A.f / B.f - 1)}, where A and B are the counts per item after and
 * before and f the figures: a linear-fractional function of f, whose extremes over the box of
 * ranges lie at corners. They are found exactly by Dinkelbach's iteration: for a ratio lambda,
 * each figure goes to the end of its range that raises (or lowers) {@code A_i - lambda B_i}; the
 * ratio of that corner is the next lambda, until it stops changing. Sys uses the counts summed
 * over vCPUs. Real uses the counts of each run's busiest vCPU at the default figures; if another
 * vCPU became the busiest at other figures, real's interval is an approximation (the report says
 * which vCPU it used).
 *
 * @param calibrationScale  the calibration run's scale
 * @param calibrationWarmup its warm-up units
 * @param sys               the interval of the sys change in percent
 * @param real              the interval of the real change in percent
 * @param sysAtDefaults     the calibration's sys change at the default figures
 * @param realAtDefaults    its real change at the default figures
 * @param sensitivity       per figure, sorted by how much it moves the sys change, largest first
 * @param ownRun            true when the counts are the comparison's own ({@link #ofRun}): a
 *                          recorded workload replays at scale 1 only, so no smaller calibration
 *                          run exists; the interval is then what the cited ranges allow of this
 *                          very comparison, said after it, not a prediction
 */
public record Prediction(long calibrationScale, long calibrationWarmup, Interval sys, Interval real,
        double sysAtDefaults, double realAtDefaults, List<Sensitivity> sensitivity, boolean ownRun) {

    /** A closed interval of changes in percent. */
    public record Interval(double low, double high) {
        boolean contains(double x) {
            // a hair of slack for floating point: the interval's ends are computed, not measured
            return x >= low - 1e-9 && x <= high + 1e-9;
        }
    }

    /** The change with one figure at its low and at its high, every other at its default. */
    public record Sensitivity(Item item, double sysAtLow, double sysAtHigh, double realAtLow, double realAtHigh) {
        double swing() {
            return Math.abs(sysAtHigh - sysAtLow);
        }
    }

    /** The prediction from a calibration comparison charged at {@code model}'s figures. */
    public static Prediction of(Comparison calibration, CostModel model) {
        return of(calibration, model, false);
    }

    /**
     * The interval of a comparison's own sys and real change over every figure's cited range,
     * from its own counts: for a recorded workload, which has no smaller scale to calibrate at
     * (a second full-size comparison before the first would double its time and say the same).
     */
    public static Prediction ofRun(Comparison comparison, CostModel model) {
        return of(comparison, model, true);
    }

    private static Prediction of(Comparison calibration, CostModel model, boolean ownRun) {
        long[] bs = sysCounts(calibration.before().time());
        long[] as = sysCounts(calibration.after().time());
        long[] br = busiestCounts(calibration.before().time());
        long[] ar = busiestCounts(calibration.after().time());
        List<Sensitivity> sens = new ArrayList<>();
        for (Item i : Item.values()) {
            if (bs[i.ordinal()] == 0 && as[i.ordinal()] == 0 && br[i.ordinal()] == 0 && ar[i.ordinal()] == 0) {
                continue;
            }
            sens.add(new Sensitivity(i, with(bs, as, model, i, i.low), with(bs, as, model, i, i.high),
                    with(br, ar, model, i, i.low), with(br, ar, model, i, i.high)));
        }
        sens.sort(Comparator.comparingDouble(Sensitivity::swing).reversed());
        return new Prediction(calibration.before().scale(), calibration.before().warmup(), interval(bs, as, model),
                interval(br, ar, model), change(bs, as, figures(model)), change(br, ar, figures(model)), sens, ownRun);
    }

    /**
     * The exact interval of {@code 100 (after.f / before.f - 1)} over every figure in its range
     * (counts by {@link Item#ordinal}); {@code model} gives the starting point.
     */
    static Interval interval(long[] before, long[] after, CostModel model) {
        double[] f = figures(model);
        return new Interval(extreme(before, after, f, false), extreme(before, after, f, true));
    }

    /** Dinkelbach's iteration towards the largest ({@code max}) or smallest ratio, as a change in percent. */
    private static double extreme(long[] before, long[] after, double[] start, boolean max) {
        Item[] items = Item.values();
        double lambda = ratio(before, after, start);
        double[] f = start.clone();
        for (int round = 0; round < 100; round++) {
            for (Item i : items) {
                double slope = after[i.ordinal()] - lambda * before[i.ordinal()];
                f[i.ordinal()] = (slope > 0) == max ? i.high : i.low;
            }
            double next = ratio(before, after, f);
            if (next == lambda || (max ? next <= lambda : next >= lambda)) {
                break;
            }
            lambda = next;
        }
        return (lambda - 1) * 100;
    }

    private static double ratio(long[] before, long[] after, double[] f) {
        double a = 0;
        double b = 0;
        for (int i = 0; i < f.length; i++) {
            a += after[i] * f[i];
            b += before[i] * f[i];
        }
        return b == 0 ? 1 : a / b;
    }

    static double change(long[] before, long[] after, double[] f) {
        return (ratio(before, after, f) - 1) * 100;
    }

    private static double with(long[] before, long[] after, CostModel model, Item item, long figure) {
        double[] f = figures(model);
        f[item.ordinal()] = figure;
        return change(before, after, f);
    }

    static double[] figures(CostModel model) {
        double[] f = new double[Item.values().length];
        for (Item i : Item.values()) {
            f[i.ordinal()] = model.cycles(i);
        }
        return f;
    }

    /** Supervisor-mode counts per item, summed over vCPUs. */
    static long[] sysCounts(SimTime t) {
        long[] c = new long[Item.values().length];
        for (long[][] v : t.vcpuCounts()) {
            for (int i = 0; i < c.length; i++) {
                c[i] += v[SimTime.SUPERVISOR][i];
            }
        }
        return c;
    }

    /** The busiest vCPU (user + sys cycles at the charged figures): its counts per item, both modes. */
    static long[] busiestCounts(SimTime t) {
        int busiest = busiest(t);
        long[] c = new long[Item.values().length];
        for (int i = 0; i < c.length; i++) {
            c[i] = t.vcpuCounts()[busiest][SimTime.SUPERVISOR][i] + t.vcpuCounts()[busiest][SimTime.USER][i];
        }
        return c;
    }

    static int busiest(SimTime t) {
        int b = 0;
        for (int v = 1; v < t.userCycles().length; v++) {
            if (t.userCycles()[v] + t.sysCycles()[v] > t.userCycles()[b] + t.sysCycles()[b]) {
                b = v;
            }
        }
        return b;
    }

    /** The prediction as text: the intervals, then the figures that move sys most (at most {@code rows}). */
    String text(int rows) {
        List<String> out = new ArrayList<>();
        if (ownRun) {
            out.add("the change this comparison's own counts give with every figure anywhere in its cited range"
                    + " (docs/cost-model.md; a recorded workload has no smaller calibration run, so this is said"
                    + " after the run, not predicted before it):");
        } else {
            out.add("predicted before the run, from a calibration run (scale " + calibrationScale + ", warm-up "
                    + calibrationWarmup + ", the same VMs and seed) with every figure anywhere in its cited range"
                    + " (docs/cost-model.md):");
        }
        out.add(String.format(Locale.ROOT, "  sys change  %s to %s (at the default figures %s)", ReportText.percent(sys.low),
                ReportText.percent(sys.high), ReportText.percent(sysAtDefaults)));
        out.add(String.format(Locale.ROOT, "  real change %s to %s (at the default figures %s)", ReportText.percent(real.low),
                ReportText.percent(real.high), ReportText.percent(realAtDefaults)));
        out.add("figures that move the sys change most (the change with the figure at its low / its high, the others at their defaults):");
        for (Sensitivity s : sensitivity.subList(0, Math.min(rows, sensitivity.size()))) {
            out.add(String.format(Locale.ROOT, "  %-20s %6d to %-6d  sys %8s / %-8s  real %8s / %s", s.item().key,
                    s.item().low, s.item().high, ReportText.percent(s.sysAtLow()), ReportText.percent(s.sysAtHigh()),
                    ReportText.percent(s.realAtLow()), ReportText.percent(s.realAtHigh())));
        }
        return String.join("\n", out);
    }

    /** The measured changes against the interval, one line. */
    static String verdict(Prediction p, Comparison c) {
        double sys = Comparison.change(c.before().time().sysSeconds(), c.after().time().sysSeconds());
        double real = Comparison.change(c.before().time().realSeconds(), c.after().time().realSeconds());
        if (p.ownRun) {
            return "measured at the default figures: sys " + ReportText.percent(sys) + " (" + ReportText.percent(p.sys.low)
                    + " to " + ReportText.percent(p.sys.high) + " over the cited ranges), real " + ReportText.percent(real) + " ("
                    + ReportText.percent(p.real.low) + " to " + ReportText.percent(p.real.high)
                    + "); seed: sys -3.65%, real -1.33%";
        }
        return "measured against predicted: sys " + ReportText.percent(sys) + " (" + (p.sys.contains(sys) ? "inside" : "OUTSIDE")
                + " " + ReportText.percent(p.sys.low) + " to " + ReportText.percent(p.sys.high) + "), real "
                + ReportText.percent(real) + " (" + (p.real.contains(real) ? "inside" : "OUTSIDE") + " "
                + ReportText.percent(p.real.low) + " to " + ReportText.percent(p.real.high) + "); seed: sys -3.65%, real -1.33%";
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("basis", ownRun ? "this comparison's own counts (a recorded workload: no calibration run)"
                : "a calibration run before the comparison");
        m.put("calibration_scale", calibrationScale);
        m.put("calibration_warmup_units", calibrationWarmup);
        m.put("sys_change_percent", List.of(sys.low, sys.high));
        m.put("real_change_percent", List.of(real.low, real.high));
        m.put("sys_change_at_defaults", sysAtDefaults);
        m.put("real_change_at_defaults", realAtDefaults);
        List<Object> rows = new ArrayList<>();
        for (Sensitivity s : sensitivity) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("key", s.item().key);
            r.put("low", s.item().low);
            r.put("high", s.item().high);
            r.put("sys_change_at_low", s.sysAtLow());
            r.put("sys_change_at_high", s.sysAtHigh());
            r.put("real_change_at_low", s.realAtLow());
            r.put("real_change_at_high", s.realAtHigh());
            rows.add(r);
        }
        m.put("sensitivity", rows);
        return m;
    }
}
