package org.shadowbox.writeflood.internal;

import java.util.List;
import java.util.Map;

import org.shadowbox.command.JsonWriter;

/** What the {@code flood:} commands return, and its rendering as text or JSON. */
final class FloodFormat {

    private FloodFormat() {
    }

    /** {@code flood:stats}: one VM's policy, threshold and counters. */
    record StatsView(String vm, String policy, int threshold, Map<String, Long> counters) {
    }

    /** One line of {@code flood:config}: the default ({@code vm} null) or one VM's own choice. */
    record ConfigRow(String vm, String policy, int threshold) {
    }

    static String text(StatsView s) {
        StringBuilder sb = new StringBuilder();
        sb.append(pad("vm:", 22)).append(s.vm()).append('\n');
        sb.append(pad("policy:", 22)).append(s.policy()).append('\n');
        sb.append(pad("threshold:", 22)).append(s.threshold());
        for (Map.Entry<String, Long> e : s.counters().entrySet()) {
            sb.append('\n').append(pad(e.getKey() + ":", 22)).append(e.getValue());
        }
        return sb.toString();
    }

    static String json(StatsView s) {
        JsonWriter j = new JsonWriter().beginObject().name("vm").string(s.vm()).name("policy").string(s.policy())
                .name("threshold").number(s.threshold()).name("counters").beginObject();
        for (Map.Entry<String, Long> e : s.counters().entrySet()) {
            j.name(e.getKey()).number(e.getValue());
        }
        return j.endObject().endObject().toString();
    }

    static String text(List<ConfigRow> rows) {
        StringBuilder sb = new StringBuilder(pad("VM", 16)).append(pad("POLICY", 8)).append("THRESHOLD");
        for (ConfigRow r : rows) {
            sb.append('\n').append(pad(r.vm() == null ? "(default)" : r.vm(), 16)).append(pad(r.policy(), 8))
                    .append(r.threshold());
        }
        return sb.toString();
    }

    static String json(List<ConfigRow> rows) {
        StringBuilder sb = new StringBuilder("[");
        for (ConfigRow r : rows) {
            JsonWriter j = new JsonWriter().beginObject().name("vm");
            if (r.vm() == null) {
                j.nullValue();
            } else {
                j.string(r.vm());
            }
            sb.append(sb.length() > 1 ? "," : "").append(j.name("policy").string(r.policy()).name("threshold")
                    .number(r.threshold()).endObject());
        }
        return sb.append(']').toString();
    }

    private static String pad(String s, int width) {
        StringBuilder sb = new StringBuilder(s);
        while (sb.length() < width) {
            sb.append(' ');
        }
        return sb.append(sb.length() > width - 1 && !s.isEmpty() && sb.charAt(sb.length() - 1) != ' ' ? " " : "")
                .toString();
    }
}
