package org.shadowbox.web.internal;

import java.util.List;
import java.util.Map;

import org.shadowbox.command.JsonReader;

/** The shell's {@code --json} output, read back for the web API ({@link JsonReader#parseShellJson}). */
final class ShellJson {
    private ShellJson() {
    }

    static Object parse(String text) {
        return JsonReader.parseShellJson(text);
    }

    /** A command's table: a JSON array of objects. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> rows(String text) {
        Object v = parse(text);
        if (!(v instanceof List)) {
            throw new IllegalArgumentException("expected a JSON array of rows, found " + (v == null ? "null" : v.getClass().getSimpleName()));
        }
        return (List<Map<String, Object>>) v;
    }
}
