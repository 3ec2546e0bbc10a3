package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.shadowbox.run.internal.CostModel.Item;

/**
 * The defaults are the cited table: every row of docs/cost-model.md's table (key, cycles, low,
 * high) equals {@link CostConfig}'s default and {@link Item}'s range, and every figure has a row
 * with a source. Changing a figure in one place only fails here.
 */
class CostTableTest {
    private static final Pattern ROW = Pattern.compile(
            "^\\| `([a-z.]+)` \\| (\\d+) \\| (\\d+) \\| (\\d+) \\| ([^|]+) \\| ([^|]+) \\|$");

    /** key -> {cycles, low, high}, and the source column's length, from the page. */
    private static Map<String, long[]> table() throws IOException {
        Path p = Path.of("../../docs/cost-model.md");
        Map<String, long[]> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(p)) {
            Matcher m = ROW.matcher(line.strip());
            if (m.matches()) {
                rows.put(m.group(1), new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                        Long.parseLong(m.group(4)), m.group(6).strip().length()});
            }
        }
        return rows;
    }

    @Test
    void defaultsAndRangesEqualTheCitedTable() throws IOException {
        Map<String, long[]> rows = table();
        CostModel d = CostModel.defaults();
        assertEquals(d.asMap().keySet(), rows.keySet(), "the page's rows are exactly the cost model's keys");
        assertEquals(d.clockMhz(), rows.get("clock.mhz")[0]);
        for (Item i : Item.values()) {
            long[] r = rows.get(i.key);
            assertEquals(r[0], d.cycles(i), i.key + ": the default is the page's figure");
            assertEquals(r[1], i.low, i.key + ": the low is the page's");
            assertEquals(r[2], i.high, i.key + ": the high is the page's");
            assertTrue(i.low <= d.cycles(i) && d.cycles(i) <= i.high, i.key + ": the figure lies in its range");
            assertTrue(r[3] > 20, i.key + ": a source is given");
        }
    }
}
