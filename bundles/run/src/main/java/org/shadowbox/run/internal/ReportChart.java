package org.shadowbox.run.internal;

import java.util.List;
import java.util.Locale;

import org.shadowbox.run.internal.ReportData.Row;

/** The comparison as an SVG bar chart: real, user and sys, legacy beside pagetrack, with the change. */
final class ReportChart {
    private static final int WIDTH = 640;
    private static final int HEIGHT = 360;
    private static final int LEFT = 70;
    private static final int BOTTOM = 300;
    private static final int TOP = 70;
    private static final String LEGACY = "#9e9e9e";
    private static final String PAGETRACK = "#1f77b4";

    private ReportChart() {
    }

    static String svg(Comparison c) {
        List<Row> rows = ReportData.rows(c).subList(0, 3);
        double max = 0;
        for (Row r : rows) {
            max = Math.max(max, Math.max(r.before(), r.after()));
        }
        if (max == 0) {
            max = 1;
        }
        RunReport b = c.before();
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        text(sb, WIDTH / 2, 22, "middle", 15, escape(b.scenario() + ": legacy vs pagetrack (scale " + b.scale() + ", seed "
                + b.seed() + ", " + b.vcpus() + " vCPUs, mmu=" + b.mmu() + ")"));
        text(sb, WIDTH / 2, 40, "middle", 11, "simulated seconds at " + ReportText.clock(b.model())
                + "; real = busiest vCPU, user and sys summed over vCPUs");
        sb.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(BOTTOM).append("\" x2=\"").append(WIDTH - 20)
                .append("\" y2=\"").append(BOTTOM).append("\" stroke=\"black\"/>\n");
        int group = (WIDTH - LEFT - 40) / rows.size();
        int bar = group / 4;
        for (int g = 0; g < rows.size(); g++) {
            Row r = rows.get(g);
            int x0 = LEFT + g * group + group / 2 - bar - 4;
            bar(sb, x0, bar, r.before(), max, LEGACY);
            bar(sb, x0 + bar + 8, bar, r.after(), max, PAGETRACK);
            text(sb, x0 + bar + 4, BOTTOM + 18, "middle", 13, r.metric());
            text(sb, x0 + bar + 4, BOTTOM + 34, "middle", 12, ReportText.percent(r.change()));
        }
        int ly = HEIGHT - 12;
        sb.append("<rect x=\"").append(LEFT).append("\" y=\"").append(ly - 10).append("\" width=\"12\" height=\"12\" fill=\"")
                .append(LEGACY).append("\"/>\n");
        text(sb, LEFT + 18, ly, "start", 12, "legacy (before the series)");
        sb.append("<rect x=\"").append(LEFT + 220).append("\" y=\"").append(ly - 10)
                .append("\" width=\"12\" height=\"12\" fill=\"").append(PAGETRACK).append("\"/>\n");
        text(sb, LEFT + 238, ly, "start", 12, "pagetrack (with page tracking)");
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
        int rows = Math.min(SENSITIVITY_ROWS, p.sensitivity().size());
        int extra = 70 + 18 * rows;
        StringBuilder sb = new StringBuilder();
        int y0 = HEIGHT + 10;
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
        text(sb, WIDTH / 2, y0 + 8, "middle", 13, escape("sys change: predicted " + ReportText.percent(p.sys().low()) + " to "
                + ReportText.percent(p.sys().high()) + ", measured " + ReportText.percent(sys) + " (seed -3.65%)"));
        int iy = y0 + 20;
        int px1 = x0 + (int) Math.round(w * (p.sys().low() - lo) / span);
        int px2 = x0 + (int) Math.round(w * (p.sys().high() - lo) / span);
        sb.append("<rect x=\"").append(px1).append("\" y=\"").append(iy).append("\" width=\"").append(Math.max(1, px2 - px1))
                .append("\" height=\"8\" fill=\"#ffbb78\"/>\n");
        int mx = x0 + (int) Math.round(w * (sys - lo) / span);
        sb.append("<line x1=\"").append(mx).append("\" y1=\"").append(iy - 4).append("\" x2=\"").append(mx).append("\" y2=\"")
                .append(iy + 12 + 18 * rows).append("\" stroke=\"black\" stroke-dasharray=\"3,2\"/>\n");
        text(sb, x0 - 6, iy + 8, "end", 11, "predicted interval");
        for (int i = 0; i < rows; i++) {
            Prediction.Sensitivity r = p.sensitivity().get(i);
            int y = iy + 18 + 18 * i;
            int a = x0 + (int) Math.round(w * (Math.min(r.sysAtLow(), r.sysAtHigh()) - lo) / span);
            int b = x0 + (int) Math.round(w * (Math.max(r.sysAtLow(), r.sysAtHigh()) - lo) / span);
            sb.append("<rect x=\"").append(a).append("\" y=\"").append(y).append("\" width=\"").append(Math.max(1, b - a))
                    .append("\" height=\"12\" fill=\"").append(PAGETRACK).append("\"/>\n");
            text(sb, x0 - 6, y + 10, "end", 11, escape(r.item().key + " " + r.item().low + "-" + r.item().high));
        }
        return chart.replace("height=\"" + HEIGHT + "\"", "height=\"" + (HEIGHT + extra) + "\"")
                .replace("</svg>\n", sb + "</svg>\n");
    }

    private static void bar(StringBuilder sb, int x, int w, double v, double max, String fill) {
        int h = (int) Math.round((BOTTOM - TOP) * v / max);
        sb.append("<rect x=\"").append(x).append("\" y=\"").append(BOTTOM - h).append("\" width=\"").append(w)
                .append("\" height=\"").append(h).append("\" fill=\"").append(fill).append("\"/>\n");
        text(sb, x + w / 2, BOTTOM - h - 4, "middle", 10, ReportText.seconds(v));
    }

    private static void text(StringBuilder sb, int x, int y, String anchor, int size, String s) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" font-size=\"%d\">%s</text>%n", x, y,
                anchor, size, s));
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
