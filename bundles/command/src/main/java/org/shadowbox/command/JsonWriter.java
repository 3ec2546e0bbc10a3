package org.shadowbox.command;

/** A tiny streaming JSON writer for {@code --json}: objects, arrays, names, strings, numbers, null. */
public final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    private boolean fresh = true;

    public JsonWriter beginObject() {
        value();
        out.append('{');
        fresh = true;
        return this;
    }

    public JsonWriter endObject() {
        out.append('}');
        fresh = false;
        return this;
    }

    public JsonWriter beginArray() {
        value();
        out.append('[');
        fresh = true;
        return this;
    }

    public JsonWriter endArray() {
        out.append(']');
        fresh = false;
        return this;
    }

    public JsonWriter name(String name) {
        value();
        quote(name);
        out.append(':');
        fresh = true;
        return this;
    }

    public JsonWriter string(String s) {
        value();
        quote(s);
        return this;
    }

    public JsonWriter number(long n) {
        value();
        out.append(n);
        return this;
    }

    public JsonWriter nullValue() {
        value();
        out.append("null");
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
