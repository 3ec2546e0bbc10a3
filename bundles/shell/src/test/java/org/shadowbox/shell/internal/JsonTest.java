package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.shell.internal.Views.TrackRow;
import org.shadowbox.vm.VmStats;

class JsonTest {

    record Page(@Hex long gfn, long count, String owner, boolean active, TrackMode mode) {
    }

    record Nested(String name, Page page, List<Integer> ids, Object nothing) {
    }

    @Test
    void scalars() {
        assertEquals("null", Json.encode(null));
        assertEquals("true", Json.encode(true));
        assertEquals("-5", Json.encode(-5));
        assertEquals("9223372036854775807", Json.encode(Long.MAX_VALUE));
        assertEquals("1.5", Json.encode(1.5));
        assertEquals("null", Json.encode(Double.NaN));
        assertEquals("null", Json.encode(Double.POSITIVE_INFINITY));
        assertEquals("\"write\"", Json.encode(TrackMode.WRITE));
        assertEquals("\"x\"", Json.encode('x'));
    }

    @Test
    void stringsAreEscaped() {
        assertEquals("\"a\\\"b\\\\c\"", Json.encode("a\"b\\c"));
        assertEquals("\"\\n\\r\\t\\b\\f\"", Json.encode("\n\r\t\b\f"));
        assertEquals("\"\\u0000\\u001f\\u2028\"", Json.encode("\u0000\u001f\u2028"));
        assertEquals("\"caf\u00e9 /\"", Json.encode("caf\u00e9 /"));
    }

    @Test
    void recordsAreObjectsInComponentOrder() {
        Page p = new Page(0x1234, 2, "org.shadowbox.shell", true, TrackMode.WRITE);
        assertEquals("{\"gfn\":4660,\"count\":2,\"owner\":\"org.shadowbox.shell\",\"active\":true,\"mode\":\"write\"}",
                Json.encode(p));
        assertEquals("{\"name\":\"n\",\"page\":{\"gfn\":0,\"count\":-1,\"owner\":null,\"active\":false,\"mode\":\"write\"},"
                + "\"ids\":[1,2],\"nothing\":null}",
                Json.encode(new Nested("n", new Page(0, -1, null, false, TrackMode.WRITE), List.of(1, 2), null)));
    }

    @Test
    void hexComponentsAreUnsigned() {
        Page p = new Page(-1L, -1L, "", false, TrackMode.WRITE);
        assertEquals("{\"gfn\":18446744073709551615,\"count\":-1,\"owner\":\"\",\"active\":false,\"mode\":\"write\"}",
                Json.encode(p));
    }

    @Test
    void tablesListsArraysAndMaps() {
        Map<String, Integer> owners = new LinkedHashMap<>();
        owners.put("z.bundle", 1);
        owners.put("a.bundle", 2);
        Table t = Table.of(TrackRow.class, List.of(new TrackRow(0x10, TrackMode.WRITE, 3, owners)));
        assertEquals("[{\"gfn\":16,\"mode\":\"write\",\"count\":3,\"owners\":{\"a.bundle\":2,\"z.bundle\":1}}]",
                Json.encode(t));
        assertEquals("[]", Json.encode(Table.of(TrackRow.class, List.of())));
        assertEquals("[\"a\",1,null]", Json.encode(Arrays.asList("a", 1, null)));
        assertEquals("[\"a\",\"b\"]", Json.encode(new String[] {"a", "b"}));
        assertEquals("{}", Json.encode(Map.of()));
    }

    @Test
    void apiRecordsToo() {
        assertEquals("{\"emulatedWrites\":1,\"cmpxchgFailed\":2,\"hostWrites\":3,\"mmioReads\":4,"
                + "\"mmioWritesDropped\":5,\"residentPages\":6,\"slotChanges\":7}",
                Json.encode(new VmStats(1, 2, 3, 4, 5, 6, 7)));
    }
}
