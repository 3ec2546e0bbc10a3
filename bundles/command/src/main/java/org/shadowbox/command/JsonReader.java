package org.shadowbox.command;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one JSON text (RFC 8259) into the values {@link Json} writes: objects become
 * {@link LinkedHashMap}s in document order, arrays {@link ArrayList}s, integers {@link Long}s,
 * decimals {@link Double}s, and {@code true}, {@code false}, {@code null} themselves. Strict: a
 * mistake is a {@link JsonSyntaxException} naming the column and what was expected there.
 *
 * <p>{@link #parse} refuses an integer outside a signed 64-bit long. {@link #parseShellJson}
 * reads the shell's own {@code --json} output, where a {@code @Hex} value (a gpa, an spte) is
 * printed as an unsigned 64-bit integer: one from 2^63 to 2^64 - 1 comes back as the
 * {@code long} of the same bits.
 */
public final class JsonReader {
    /** A JSON text that is not what the reader accepts; the message names the column (from 1). */
    public static final class JsonSyntaxException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int column;

        JsonSyntaxException(int column, String message) {
            super(message);
            this.column = column;
        }

        /** The column of the mistake, counted from 1. */
        public int column() {
            return column;
        }
    }

    private final String s;
    private final boolean unsigned;
    private int i;

    private JsonReader(String s, boolean unsigned) {
        this.s = s;
        this.unsigned = unsigned;
    }

    /** The one value of {@code text}, with nothing but blanks around it. */
    public static Object parse(String text) {
        return new JsonReader(text, false).whole(false);
    }

    /** The one object of {@code text} (a line of a JSON-lines file, say), nothing after it. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        return (Map<String, Object>) new JsonReader(text, false).whole(true);
    }

    /** As {@link #parse}, for the shell's {@code --json}: unsigned 64-bit integers as their bits. */
    public static Object parseShellJson(String text) {
        return new JsonReader(text, true).whole(false);
    }

    private Object whole(boolean object) {
        blanks();
        if (object && peek() != '{') {
            throw expected("a JSON object '{'");
        }
        Object v = value();
        blanks();
        if (i != s.length()) {
            throw expected("nothing after the " + (object ? "object" : "value"));
        }
        return v;
    }

    private Object value() {
        blanks();
        char c = peek();
        if (i >= s.length()) {
            throw expected("a value");
        }
        switch (c) {
            case '{':
                return object();
            case '[':
                return array();
            case '"':
                return string();
            case 't':
                return word("true", Boolean.TRUE);
            case 'f':
                return word("false", Boolean.FALSE);
            case 'n':
                return word("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw expected("a value");
        }
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        blanks();
        if (peek() == '}') {
            i++;
            return m;
        }
        while (true) {
            blanks();
            if (peek() != '"') {
                throw expected("a key in double quotes");
            }
            String k = string();
            blanks();
            if (peek() != ':') {
                throw expected("':' after key \"" + k + "\"");
            }
            i++;
            m.put(k, value());
            blanks();
            char c = peek();
            if (c == '}') {
                i++;
                return m;
            }
            if (c != ',') {
                throw expected("',' or '}'");
            }
            i++;
        }
    }

    private List<Object> array() {
        List<Object> l = new ArrayList<>();
        i++;
        blanks();
        if (peek() == ']') {
            i++;
            return l;
        }
        while (true) {
            l.add(value());
            blanks();
            char c = peek();
            if (c == ']') {
                i++;
                return l;
            }
            if (c != ',') {
                throw expected("',' or ']'");
            }
            i++;
        }
    }

    private String string() {
        StringBuilder b = new StringBuilder();
        i++;
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) {
                break;
            }
            char e = s.charAt(i++);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw expected("4 hex digits after \\u");
                    }
                    try {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException x) {
                        throw expected("4 hex digits after \\u");
                    }
                    i += 4;
                }
                default -> b.append(e);
            }
        }
        throw expected("a closing '\"'");
    }

    private Object number() {
        int start = i;
        if (peek() == '-') {
            i++;
        }
        boolean decimal = false;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                i++;
            } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                decimal = true;
                i++;
            } else {
                break;
            }
        }
        String t = s.substring(start, i);
        try {
            if (decimal) {
                return Double.parseDouble(t);
            }
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException big) {
                if (unsigned && t.charAt(0) != '-') {
                    return Long.parseUnsignedLong(t);
                }
                throw big;
            }
        } catch (NumberFormatException e) {
            i = start;
            throw new JsonSyntaxException(i + 1, "column " + (i + 1) + ": expected "
                    + (decimal ? "a number" : unsigned ? "an integer of 64 bits, signed or unsigned" : "an integer of 64 bits")
                    + ", found '" + t + "'");
        }
    }

    private Object word(String w, Object v) {
        if (!s.startsWith(w, i)) {
            throw expected("a value");
        }
        i += w.length();
        return v;
    }

    private char peek() {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private void blanks() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                return;
            }
            i++;
        }
    }

    private JsonSyntaxException expected(String what) {
        String found = i >= s.length() ? "the end" : "'" + s.charAt(i) + "'";
        return new JsonSyntaxException(i + 1, "column " + (i + 1) + ": expected " + what + ", found " + found);
    }
}
