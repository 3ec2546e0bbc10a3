package org.shadowbox.writeflood.internal;

/** A small JSON writer for {@code --json}: this bundle keeps its own rather than lean on the shell's internals. */
final class Json {
    private final StringBuilder out = new StringBuilder();
    private boolean fresh = true;

    Json begin() {
        sep();
        out.append('{');
        fresh = true;
        return this;
    }

    Json end() {
        out.append('}');
        fresh = false;
        return this;
    }

    Json name(String n) {
        sep();
        quote(n);
        out.append(':');
        fresh = true;
        return this;
    }

    Json string(String s) {
        sep();
        quote(s);
        return this;
    }

    Json nullValue() {
        sep();
        out.append("null");
        return this;
    }

    Json number(long n) {
        sep();
        out.append(n);
        return this;
    }

    private void sep() {
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

    @Override
    public String toString() {
        return out.toString();
    }
}
