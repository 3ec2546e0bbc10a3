package org.shadowbox.guest.internal.trace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON value of one trace line (RFC 8259: objects, arrays, strings, integers, decimals, true,
 * false, null). Objects become {@link LinkedHashMap}s, integers {@link Long}s, decimals
 * {@link Double}s. A mistake is a {@link TraceException} naming the column and what was expected.
 * One instance per line; not thread-safe.
 */
final class JsonLine {
    private final String s;
    private int i;

    private JsonLine(String s) {
        this.s = s;
    }

    /** The object on {@code line}, nothing after it but blanks. */
    static Map<String, Object> object(String line) {
        JsonLine p = new JsonLine(line);
        p.blanks();
        if (p.i >= line.length() || line.charAt(p.i) != '{') {
            throw p.expected("a JSON object '{'");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) p.value();
        p.blanks();
        if (p.i != line.length()) {
            throw p.expected("end of line after the object");
        }
        return m;
    }

    private Object value() {
        blanks();
        if (i >= s.length()) {
            throw expected("a value");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{':
                return obj();
            case '[':
                return arr();
            case '"':
                return str();
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

    private Map<String, Object> obj() {
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
            String k = str();
            blanks();
            if (peek() != ':') {
                throw expected("':' after key \"" + k + "\"");
            }
            i++;
            m.put(k, value());
            blanks();
            char c = peek();
            i++;
            if (c == '}') {
                return m;
            }
            if (c != ',') {
                i--;
                throw expected("',' or '}'");
            }
        }
    }

    private List<Object> arr() {
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
            i++;
            if (c == ']') {
                return l;
            }
            if (c != ',') {
                i--;
                throw expected("',' or ']'");
            }
        }
    }

    private String str() {
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
            return decimal ? (Object) Double.parseDouble(t) : (Object) Long.parseLong(t);
        } catch (NumberFormatException e) {
            i = start;
            throw expected("a number (found '" + t + "')");
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
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\r')) {
            i++;
        }
    }

    private TraceException expected(String what) {
        String found = i >= s.length() ? "end of line" : "'" + s.charAt(i) + "'";
        return new TraceException("column " + (i + 1) + ": expected " + what + ", found " + found);
    }
}
