package org.shadowbox.shell.internal;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small JSON encoder for what commands return: records become objects (components in
 * declaration order), a {@link Table} and any collection or array an array, maps objects
 * (keys sorted), numbers JSON numbers ({@link Hex} components as unsigned 64-bit decimals),
 * enums their lower-case name, {@code null} null. Output is one line.
 */
final class Json {

    private Json() {
    }

    static String encode(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, false);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, boolean unsigned) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof CharSequence || v instanceof Character) {
            string(sb, v.toString());
        } else if (v instanceof Boolean) {
            sb.append(v);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            long n = ((Number) v).longValue();
            sb.append(unsigned && v instanceof Long ? Long.toUnsignedString(n) : Long.toString(n));
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
        } else if (v instanceof BigInteger || v instanceof BigDecimal) {
            sb.append(v);
        } else if (v instanceof Enum) {
            string(sb, ((Enum<?>) v).name().toLowerCase(Locale.ROOT));
        } else if (v instanceof Table) {
            array(sb, ((Table) v).rows());
        } else if (v instanceof Record) {
            record(sb, (Record) v);
        } else if (v instanceof Map) {
            map(sb, (Map<?, ?>) v);
        } else if (v instanceof Collection) {
            array(sb, (Collection<?>) v);
        } else if (v instanceof Object[]) {
            array(sb, java.util.Arrays.asList((Object[]) v));
        } else {
            string(sb, v.toString());
        }
    }

    private static void record(StringBuilder sb, Record r) {
        sb.append('{');
        boolean first = true;
        for (RecordComponent rc : r.getClass().getRecordComponents()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            string(sb, rc.getName());
            sb.append(':');
            write(sb, component(r, rc), rc.isAnnotationPresent(Hex.class));
        }
        sb.append('}');
    }

    private static void map(StringBuilder sb, Map<?, ?> m) {
        Map<String, Object> sorted = new TreeMap<>();
        m.forEach((k, val) -> sorted.put(String.valueOf(k), val));
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : sorted.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            string(sb, e.getKey());
            sb.append(':');
            write(sb, e.getValue(), false);
        }
        sb.append('}');
    }

    private static void array(StringBuilder sb, Collection<?> c) {
        sb.append('[');
        boolean first = true;
        for (Object o : c) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            write(sb, o, false);
        }
        sb.append(']');
    }

    /** A JSON string: quotes, backslash and control characters escaped (RFC 8259 section 7). */
    static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    /** The value of a record component (records here are public, so the accessor is callable). */
    static Object component(Record r, RecordComponent rc) {
        try {
            return rc.getAccessor().invoke(r);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + r.getClass().getSimpleName() + "." + rc.getName(), e);
        }
    }
}
