package org.shadowbox.run.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.shadowbox.run.internal.ReportData.Row;

/**
 * The comparison as an SVG chart of what changed: one horizontal bar per quantity, its change
 * from legacy to pagetrack in per cent, on a labelled axis centred on 0. Real, user and sys come
 * first, each with the seed's own change drawn beside it; then every event count that moved
 * (counts that did not move are named under the chart). The absolute values are in the JSON and
 * CSV files written beside it.
 */
final class ReportChart {
    private static final int WIDTH = 760;
    private static final int LABEL = 190;
    private static final int RIGHT = 40;
    private static final int TOP = 78;
    private static final int ROW = 26;
    private static final String OURS = "#1f77b4";
    private static final String SEED = "#ff7f0e";
    private static final double[] STEPS = {0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

    private ReportChart() {
    }

    /** One bar: a label, our change, and the seed's change or NaN. */
    private record Bar(String label, double change, double seed) {
    }

    static String svg(Comparison c) {
        List<Row> rows = ReportData.rows(c);
        List<Bar> bars = new ArrayList<>();
        List<String> unmoved = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (i < 3) {
                double seed = Comparison.change(ReportData.SEED_BEFORE[i], ReportData.SEED_AFTER[i]);
                bars.add(new Bar(r.metric() + " (s)", r.change(), seed));
            } else if (Double.isNaN(r.change()) || r.change() != 0) {
                bars.add(new Bar(r.metric(), r.change(), Double.NaN));
            } else {
                unmoved.add(r.metric());
            }
        }
        double max = 0;
        for (Bar b : bars) {
            max = Math.max(max, finite(b.change()));
            max = Math.max(max, finite(b.seed()));
        }
        double step = STEPS[STEPS.length - 1];
        for (double s : STEPS) {
            if (s * 4 >= max) {
                step = s;
                break;
            }
        }
        double limit = Math.max(step, Math.ceil(max * 1.2 / step) * step); // room for the value labels
        int plot = WIDTH - LABEL - RIGHT;
        int zero = LABEL + plot / 2;
        int axisY = TOP + bars.size() * ROW + 8;
        List<String> unmovedLines = wrap("unchanged: " + String.join(", ", unmoved), 95);
        int height = axisY + 76 + (unmoved.isEmpty() ? 0 : 16 * unmovedLines.size());
        RunReport b = c.before();
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"").append(height)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        text(sb, WIDTH / 2, 22, "middle", 15, escape(b.scenario() + ": change from legacy to pagetrack (scale " + b.scale()
                + ", seed " + b.seed() + ", " + b.vcpus() + " vCPUs, mmu=" + b.mmu() + ")"));
        text(sb, WIDTH / 2, 40, "middle", 11, escape("per cent, (pagetrack - legacy) / legacy; times simulated at "
                + ReportText.clock(b.model()) + " (real: busiest vCPU; user, sys: summed over vCPUs)"));
        text(sb, WIDTH / 2, 56, "middle", 11, "negative: pagetrack needs less; the seed's kernel build beside the times");
        // grid and axis
        for (double t = -limit; t <= limit + step / 2; t += step) {
            int x = x(t, limit, zero, plot);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/>%n", x, TOP - 6,
                    x, axisY, Math.abs(t) < step / 2 ? "black" : "#dddddd"));
            text(sb, x, axisY + 16, "middle", 11, tick(t, step));
        }
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", LABEL,
                axisY, LABEL + plot, axisY));
        text(sb, zero, axisY + 34, "middle", 12, "change (%)");
        for (int i = 0; i < bars.size(); i++) {
            Bar bar = bars.get(i);
            int y = TOP + i * ROW;
            text(sb, LABEL - 8, y + 12, "end", 12, escape(bar.label()));
            boolean seed = !Double.isNaN(bar.seed());
            int h = seed ? 9 : 16;
            bar(sb, bar.change(), limit, zero, plot, y + 1, h, OURS);
            if (seed) {
                bar(sb, bar.seed(), limit, zero, plot, y + 1 + h + 1, h, SEED);
            }
        }
        int ly = axisY + 58;
        sb.append("<rect x=\"").append(LABEL).append("\" y=\"").append(ly - 10).append("\" width=\"12\" height=\"12\" fill=\"")
                .append(OURS).append("\"/>\n");
        text(sb, LABEL + 18, ly, "start", 12, "this run");
        sb.append("<rect x=\"").append(LABEL + 120).append("\" y=\"").append(ly - 10)
                .append("\" width=\"12\" height=\"12\" fill=\"").append(SEED).append("\"/>\n");
        text(sb, LABEL + 138, ly, "start", 12, "the seed's kernel build (its paper's table)");
        if (!unmoved.isEmpty()) {
            for (int i = 0; i < unmovedLines.size(); i++) {
                text(sb, LABEL, ly + 20 + 16 * i, "start", 11, escape(unmovedLines.get(i)));
            }
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    /** Rows of the sensitivity panel. */
    private static final int SENSITIVITY_ROWS = 8;

    /**
     * {@link #svg(Comparison)} with the prediction below it: a tornado chart of the sys change
     * with each figure at its low and high (the others at their defaults), the predicted interval
     * and the measured change. Kept apart from the bar chart so that either can be redrawn alone.
     */
    static String svg(Comparison c, Prediction p) {
        String chart = svg(c);
        if (p == null) {
            return chart;
        }
        java.util.regex.Matcher hm = java.util.regex.Pattern.compile("height=\"(\\d+)\"").matcher(chart);
        int height = hm.find() ? Integer.parseInt(hm.group(1)) : 0;
        int rows = Math.min(SENSITIVITY_ROWS, p.sensitivity().size());
        int extra = 70 + 18 * rows;
        StringBuilder sb = new StringBuilder();
        int y0 = height + 10;
        double sys = Comparison.change(c.before().time().sysSeconds(), c.after().time().sysSeconds());
        double lo = Math.min(Math.min(p.sys().low(), sys), 0);
        double hi = Math.max(Math.max(p.sys().high(), sys), 0);
        for (Prediction.Sensitivity r : p.sensitivity().subList(0, rows)) {
            lo = Math.min(lo, Math.min(r.sysAtLow(), r.sysAtHigh()));
            hi = Math.max(hi, Math.max(r.sysAtLow(), r.sysAtHigh()));
        }
        double span = hi - lo == 0 ? 1 : hi - lo;
        int x0 = 190;
        int w = WIDTH - x0 - 30;
        text(sb, WIDTH / 2, y0 + 8, "middle", 13, escape((p.ownRun() ? "sys change over the cited ranges: " : "sys change: predicted ") + ReportText.percent(p.sys().low()) + " to "
                + ReportText.percent(p.sys().high()) + ", measured " + ReportText.percent(sys) + " (seed -3.65%)"));
        int iy = y0 + 20;
        int px1 = x0 + (int) Math.round(w * (p.sys().low() - lo) / span);
        int px2 = x0 + (int) Math.round(w * (p.sys().high() - lo) / span);
        sb.append("<rect x=\"").append(px1).append("\" y=\"").append(iy).append("\" width=\"").append(Math.max(1, px2 - px1))
                .append("\" height=\"8\" fill=\"#ffbb78\"/>\n");
        int mx = x0 + (int) Math.round(w * (sys - lo) / span);
        sb.append("<line x1=\"").append(mx).append("\" y1=\"").append(iy - 4).append("\" x2=\"").append(mx).append("\" y2=\"")
                .append(iy + 12 + 18 * rows).append("\" stroke=\"black\" stroke-dasharray=\"3,2\"/>\n");
        text(sb, x0 - 6, iy + 8, "end", 11, p.ownRun() ? "interval" : "predicted interval");
        for (int i = 0; i < rows; i++) {
            Prediction.Sensitivity r = p.sensitivity().get(i);
            int y = iy + 18 + 18 * i;
            int a = x0 + (int) Math.round(w * (Math.min(r.sysAtLow(), r.sysAtHigh()) - lo) / span);
            int b = x0 + (int) Math.round(w * (Math.max(r.sysAtLow(), r.sysAtHigh()) - lo) / span);
            sb.append("<rect x=\"").append(a).append("\" y=\"").append(y).append("\" width=\"").append(Math.max(1, b - a))
                    .append("\" height=\"12\" fill=\"").append(OURS).append("\"/>\n");
            text(sb, x0 - 6, y + 10, "end", 11, escape(r.item().key + " " + r.item().low + "-" + r.item().high));
        }
        return chart.replaceFirst("height=\"" + height + "\"", "height=\"" + (height + extra) + "\"")
                .replace("</svg>\n", sb + "</svg>\n");
    }

    /** {@code s} in lines of at most about {@code width} characters, broken after commas. */
    static List<String> wrap(String s, int width) {
        List<String> out = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String part : s.split("(?<=, )")) {
            if (line.length() > 0 && line.length() + part.length() > width) {
                out.add(line.toString().strip());
                line.setLength(0);
            }
            line.append(part);
        }
        out.add(line.toString().strip());
        return out;
    }

    private static double finite(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? 0 : Math.abs(v);
    }

    private static int x(double v, double limit, int zero, int plot) {
        return (int) Math.round(zero + v / limit * (plot / 2.0));
    }

    /** A bar from 0 to {@code v} with its value at its end; "new" for a count that was 0 before. */
    private static void bar(StringBuilder sb, double v, double limit, int zero, int plot, int y, int h, String fill) {
        if (Double.isNaN(v)) {
            text(sb, zero + 4, y + h - 2, "start", 10, "new (0 under legacy)");
            return;
        }
        int end = x(v, limit, zero, plot);
        int x = Math.min(zero, end);
        int w = Math.max(1, Math.abs(end - zero));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n", x, y, w, h,
                fill));
        boolean right = v >= 0;
        text(sb, right ? x + w + 4 : x - 4, y + h - 1, right ? "start" : "end", 10, ReportText.percent(v));
    }

    private static String tick(double t, double step) {
        double v = Math.abs(t) < step / 2 ? 0 : t;
        String s = step < 1 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.0f", v);
        return (v > 0 ? "+" : "") + s;
    }

    private static void text(StringBuilder sb, int x, int y, String anchor, int size, String s) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" font-size=\"%d\">%s</text>%n", x, y,
                anchor, size, s));
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
