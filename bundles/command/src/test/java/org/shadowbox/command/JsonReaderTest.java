package org.shadowbox.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

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
    void unsignedHexValuesStayExactOnlyInShellJson() {
        // the shell prints @Hex components as unsigned decimals
        assertEquals(-1L, JsonReader.parseShellJson("18446744073709551615"));
        assertEquals(Long.MIN_VALUE, JsonReader.parseShellJson("9223372036854775808"));
        JsonReader.JsonSyntaxException e = assertThrows(JsonReader.JsonSyntaxException.class,
                () -> JsonReader.parse("18446744073709551615"));
        assertEquals("column 1: expected an integer of 64 bits, found '18446744073709551615'", e.getMessage());
        assertThrows(JsonReader.JsonSyntaxException.class, () -> JsonReader.parseShellJson("18446744073709551616"));
        assertThrows(JsonReader.JsonSyntaxException.class, () -> JsonReader.parseShellJson("-9223372036854775809"));
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
        for (String bad : List.of("", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "1 2", "{'a':1}", "-", "\"\\u12\"")) {
            assertThrows(JsonReader.JsonSyntaxException.class, () -> JsonReader.parse(bad), bad);
        }
    }

    @Test
    void namesTheColumnAndWhatWasExpected() {
        assertEquals("column 9: expected ',' or '}', found '\"'",
                assertThrows(JsonReader.JsonSyntaxException.class,
                        () -> JsonReader.parseObject("{\"a\": 1 \"b\": 2}")).getMessage());
        assertEquals("column 1: expected a JSON object '{', found '['",
                assertThrows(JsonReader.JsonSyntaxException.class, () -> JsonReader.parseObject("[1]")).getMessage());
        JsonReader.JsonSyntaxException e = assertThrows(JsonReader.JsonSyntaxException.class,
                () -> JsonReader.parseObject("{\"a\": 1} x"));
        assertEquals(10, e.column());
        assertEquals("column 10: expected nothing after the object, found 'x'", e.getMessage());
        assertEquals("column 7: expected a value, found the end",
                assertThrows(JsonReader.JsonSyntaxException.class, () -> JsonReader.parse("{\"a\": ")).getMessage());
    }
}
