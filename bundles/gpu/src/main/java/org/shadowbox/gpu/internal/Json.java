package org.shadowbox.gpu.internal;

/** A tiny streaming JSON writer for the gpu commands' {@code --json} (a plugin keeps its own). */
final class Json {
    private final StringBuilder out = new StringBuilder();
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
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
