package org.shadowbox.gpu.internal;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

import org.shadowbox.command.JsonWriter;

/** Renders the gpu commands' results, as aligned text for people or as one JSON value. */
final class GpuFormat {
    private GpuFormat() {
    }

    /** A row of {@code gpu:list}. */
    record GpuRow(String vm, long tables, long given, long contexts, long writes, long violations, long batches) {
    }

    static String change(boolean json, String vm, String what) {
        return json ? new JsonWriter().beginObject().name("vm").string(vm).name("vgpu").string(what).endObject().toString()
                : "vGPU of VM " + vm + ": " + what;
    }

    static String textRows(List<GpuRow> rows) {
        List<String[]> cells = new ArrayList<>();
        for (GpuRow r : rows) {
            cells.add(new String[] {r.vm(), d(r.tables()), d(r.given()), d(r.contexts()), d(r.writes()), d(r.violations()),
                d(r.batches())});
        }
        return table(new String[] {"VM", "TABLES", "GIVEN", "CONTEXTS", "WRITES", "VIOLATIONS", "BATCHES"}, cells);
    }

    static String jsonRows(List<GpuRow> rows) {
        JsonWriter j = new JsonWriter().beginArray();
        for (GpuRow r : rows) {
            record(j, r);
        }
        return j.endArray().toString();
    }

    static String textTables(String vm, List<String> roots, List<VGpu.TableInfo> tables) {
        StringBuilder sb = new StringBuilder("VM ").append(vm).append(": contexts");
        for (int c = 0; c < roots.size(); c++) {
            sb.append(c == 0 ? " " : ", ").append(c).append('=').append(roots.get(c));
        }
        sb.append("; ").append(tables.size()).append(" shadowed table page").append(tables.size() == 1 ? "" : "s");
        List<String[]> cells = new ArrayList<>();
        for (VGpu.TableInfo t : tables) {
            cells.add(new String[] {"0x" + Long.toHexString(t.gfn()), d(t.level()), d(t.refs()), d(t.tables()), d(t.pages()),
                d(t.scratch()), d(t.writes()), d(t.failures())});
        }
        return sb.append('\n').append(table(new String[] {"GFN", "LEVEL", "REFS", "TABLES", "PAGES", "SCRATCH", "WRITES",
            "FAILURES"}, cells)).toString();
    }

    static String jsonTables(String vm, List<String> roots, List<VGpu.TableInfo> tables) {
        JsonWriter j = new JsonWriter().beginObject().name("vm").string(vm).name("contexts").beginArray();
        for (String r : roots) {
            j.string(r);
        }
        j.endArray().name("tables").beginArray();
        for (VGpu.TableInfo t : tables) {
            record(j, t);
        }
        return j.endArray().endObject().toString();
    }

    static String textStats(String vm, GpuStats.Snapshot s) {
        StringBuilder sb = new StringBuilder("vm:");
        int width = 0;
        for (RecordComponent rc : s.getClass().getRecordComponents()) {
            width = Math.max(width, words(rc.getName()).length() + 1);
        }
        sb.append(" ".repeat(width - 2)).append(vm);
        for (RecordComponent rc : s.getClass().getRecordComponents()) {
            String key = words(rc.getName()) + ":";
            sb.append('\n').append(key).append(" ".repeat(width - key.length() + 1)).append(get(s, rc));
        }
        return sb.toString();
    }

    static String jsonStats(String vm, GpuStats.Snapshot s) {
        JsonWriter j = new JsonWriter().beginObject().name("vm").string(vm);
        for (RecordComponent rc : s.getClass().getRecordComponents()) {
            j.name(rc.getName()).number(((Number) get(s, rc)).longValue());
        }
        return j.endObject().toString();
    }

    private static void record(JsonWriter j, Record r) {
        j.beginObject();
        for (RecordComponent rc : r.getClass().getRecordComponents()) {
            Object v = get(r, rc);
            j.name(rc.getName());
            if (v instanceof Number n) {
                j.number(n.longValue());
            } else {
                j.string(String.valueOf(v));
            }
        }
        j.endObject();
    }

    private static Object get(Record r, RecordComponent rc) {
        try {
            return rc.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("record accessor " + rc.getName(), e);
        }
    }

    /** {@code writesHandled} as {@code writes handled}. */
    static String words(String camel) {
        return camel.replaceAll("([A-Z])", " $1").toLowerCase(java.util.Locale.ROOT);
    }

    private static String d(long v) {
        return Long.toString(v);
    }

    /** An aligned table: the first column left-aligned, numbers right-aligned. */
    static String table(String[] header, List<String[]> rows) {
        int[] w = new int[header.length];
        for (int c = 0; c < header.length; c++) {
            w[c] = header[c].length();
            for (String[] r : rows) {
                w[c] = Math.max(w[c], r[c].length());
            }
        }
        List<String> lines = new ArrayList<>();
        lines.add(line(header, w));
        for (String[] r : rows) {
            lines.add(line(r, w));
        }
        return String.join("\n", lines);
    }

    private static String line(String[] cells, int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) {
                sb.append("  ");
            }
            sb.append(c == 0 ? String.format("%-" + w[c] + "s", cells[c]) : String.format("%" + w[c] + "s", cells[c]));
        }
        return sb.toString().stripTrailing();
    }
}
