package org.shadowbox.web.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.command.Json;

class JsonReaderTest {
    @Test
    void readsWhatTheCommandsPrint() {
        Object v = JsonReader.parse(" {\"a\": [1, -2, 3.5, true, false, null, \"x\\\"y\\u00e9\\n\"], \"b\": {}} ");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("a", Arrays.asList(1L, -2L, 3.5, true, false, null, "x\"y\u00e9\n"));
        expected.put("b", Map.of());
        assertEquals(expected, v);
    }

    @Test
    void unsignedHexValuesStayExact() {
        // the shell prints @Hex components as unsigned decimals
        assertEquals(-1L, JsonReader.parse("18446744073709551615"));
    }

    @Test
    void roundTripsTheEncoder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "demo");
        m.put("rows", List.of(Map.of("id", 1L), Map.of("id", 2L)));
        m.put("ratio", 0.25);
        assertEquals(m, JsonReader.parse(Json.encode(m, false)));
        assertEquals(m, JsonReader.parse(Json.encode(m, true)));
    }

    @Test
    void refusesWhatIsNotJson() {
        for (String bad : List.of("", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "1 2", "{'a':1}", "-")) {
            assertThrows(IllegalArgumentException.class, () -> JsonReader.parse(bad), bad);
        }
    }
}
