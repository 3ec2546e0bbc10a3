package org.shadowbox.audit.internal;

/**
 * A tiny streaming JSON writer, enough for the audit's {@code --json} output. A plugin keeps
 * its own rather than lean on another bundle's internals.
 *
 * <p>Numbers are written as JSON numbers; 64-bit values that may use the sign bit (a written
 * value) go through {@link #unsigned}.
 */
final class Json {

    private final StringBuilder out = new StringBuilder();
    /** True right after an opening bracket or a name: no comma before the next value. */
    private boolean fresh = true;

    Json beginObject() {
        value();
        out.append('{');
        fresh = true;
        return this;
    }

    Json endObject() {
        out.append('}');
        fresh = false;
        return this;
    }

    Json beginArray() {
        value();
        out.append('[');
        fresh = true;
        return this;
    }

    Json endArray() {
        out.append(']');
        fresh = false;
        return this;
    }

    /** Starts a member; the next call writes its value. */
    Json name(String name) {
        value();
        quote(name);
        out.append(':');
        fresh = true;
        return this;
    }

    Json string(String s) {
        value();
        quote(s);
        return this;
    }

    Json number(long n) {
        value();
        out.append(n);
        return this;
    }

    /** {@code n} read as an unsigned 64-bit number. */
    Json unsigned(long n) {
        value();
        out.append(Long.toUnsignedString(n));
        return this;
    }

    Json bool(boolean b) {
        value();
        out.append(b);
        return this;
    }

    @Override
    public String toString() {
        return out.toString();
    }

    private void value() {
        if (!fresh) {
            out.append(',');
        }
        fresh = false;
    }

    private void quote(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
