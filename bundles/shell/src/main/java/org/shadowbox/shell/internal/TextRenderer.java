package org.shadowbox.shell.internal;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Renders result records as text. A {@link Table} becomes an aligned table under an
 * upper-case header (numbers right-aligned, long cells cut); a record a block of
 * {@code key: value} lines, whose nested records and tables are indented below their key;
 * {@link Hex} components print as {@code 0x1234}, {@link Bytes} as {@code 1 GiB}. No output
 * ends with a newline: Gogo's shell adds one.
 */
final class TextRenderer {

    /** Widest table cell; longer text (an error message) is cut with "...". */
    static final int MAX_CELL = 60;
    private static final String INDENT = "  ";

    private TextRenderer() {
    }

    /** The full rendering (Gogo's INSPECT level). */
    static String render(Object o) {
        if (o instanceof Table) {
            Table t = (Table) o;
            return String.join("\n", table(t.type(), t.rows()));
        }
        if (o instanceof Record) {
            return String.join("\n", block((Record) o));
        }
        return scalar(o, null);
    }

    /** One line (Gogo's LINE level): {@code key=value} pairs, or a table's row count. */
    static String line(Object o) {
        if (o instanceof Table) {
            Table t = (Table) o;
            return t.rows().size() + " " + words(t.type().getSimpleName()) + (t.rows().size() == 1 ? "" : "s");
        }
        if (o instanceof Record) {
            List<String> parts = new ArrayList<>();
            for (RecordComponent rc : o.getClass().getRecordComponents()) {
                parts.add(rc.getName() + "=" + scalar(Json.component((Record) o, rc), rc));
            }
            return String.join(" ", parts);
        }
        return scalar(o, null);
    }

    /** A key: value block; nested records and tables go indented under their key. */
    static List<String> block(Record r) {
        RecordComponent[] rcs = r.getClass().getRecordComponents();
        int width = 0;
        for (RecordComponent rc : rcs) {
            width = Math.max(width, words(rc.getName()).length() + 1);
        }
        List<String> out = new ArrayList<>();
        for (RecordComponent rc : rcs) {
            Object v = Json.component(r, rc);
            String key = words(rc.getName()) + ":";
            if (v instanceof Table || v instanceof Record) {
                out.add(key);
                List<String> nested = v instanceof Table
                        ? table(((Table) v).type(), ((Table) v).rows()) : block((Record) v);
                nested.forEach(l -> out.add(INDENT + l));
            } else {
                out.add(pad(key, width) + " " + scalar(v, rc));
            }
        }
        return out;
    }

    /** An aligned table: header row of component names, then one row per record. */
    static List<String> table(Class<? extends Record> type, List<? extends Record> rows) {
        RecordComponent[] rcs = type.getRecordComponents();
        int n = rcs.length;
        String[] header = new String[n];
        int[] width = new int[n];
        boolean[] right = new boolean[n];
        for (int i = 0; i < n; i++) {
            header[i] = words(rcs[i].getName()).toUpperCase(Locale.ROOT);
            width[i] = header[i].length();
            Class<?> t = rcs[i].getType();
            right[i] = t == int.class || t == long.class || t == short.class
                    || Number.class.isAssignableFrom(t);
        }
        List<String[]> cells = new ArrayList<>();
        for (Record r : rows) {
            String[] row = new String[n];
            for (int i = 0; i < n; i++) {
                row[i] = cut(scalar(Json.component(r, rcs[i]), rcs[i]));
                width[i] = Math.max(width[i], row[i].length());
            }
            cells.add(row);
        }
        List<String> out = new ArrayList<>();
        out.add(row(header, width, right));
        for (String[] row : cells) {
            out.add(row(row, width, right));
        }
        return out;
    }

    /** One value as text, following the component's {@link Hex} or {@link Bytes} marking. */
    static String scalar(Object v, RecordComponent rc) {
        if (v == null) {
            return "-";
        }
        if (rc != null && v instanceof Number && rc.isAnnotationPresent(Hex.class)) {
            long n = ((Number) v).longValue();
            if (v instanceof Integer) {
                n &= 0xffffffffL;
            }
            String hex = "0x" + Long.toHexString(n);
            return rc.getAnnotation(Hex.class).decimal() ? hex + " (" + Long.toUnsignedString(n) + ")" : hex;
        }
        if (rc != null && v instanceof Number && rc.isAnnotationPresent(Bytes.class)) {
            return Sizes.human(((Number) v).longValue());
        }
        if (v instanceof Boolean) {
            return (Boolean) v ? "yes" : "no";
        }
        if (v instanceof Enum) {
            return ((Enum<?>) v).name().toLowerCase(Locale.ROOT);
        }
        if (v instanceof Map) {
            Map<String, Object> sorted = new TreeMap<>();
            ((Map<?, ?>) v).forEach((k, val) -> sorted.put(String.valueOf(k), val));
            return sorted.isEmpty() ? "-" : sorted.entrySet().stream()
                    .map(e -> e.getKey() + "=" + scalar(e.getValue(), null)).collect(Collectors.joining(", "));
        }
        if (v instanceof Collection) {
            Collection<?> c = (Collection<?>) v;
            return c.isEmpty() ? "-" : c.stream().map(o -> scalar(o, null)).collect(Collectors.joining(", "));
        }
        if (v instanceof Table || v instanceof Record) {
            return line(v);
        }
        String s = v.toString();
        return s.isEmpty() ? "-" : s;
    }

    /** {@code baseGfn} to {@code base gfn}; {@code VcpuRow} to {@code vcpu row}. */
    static String words(String camel) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c) && i > 0 && !Character.isUpperCase(camel.charAt(i - 1))) {
                sb.append(' ');
            }
            sb.append(Character.toLowerCase(c));
        }
        return sb.toString();
    }

    private static String row(String[] cells, int[] width, boolean[] right) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                sb.append("  ");
            }
            String c = cells[i];
            boolean last = i == cells.length - 1;
            if (right[i]) {
                sb.append(" ".repeat(width[i] - c.length())).append(c);
            } else {
                sb.append(last ? c : pad(c, width[i]));
            }
        }
        return sb.toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    private static String cut(String s) {
        String one = s.replace('\n', ' ').replace('\r', ' ');
        return one.length() <= MAX_CELL ? one : one.substring(0, MAX_CELL - 3) + "...";
    }
}
