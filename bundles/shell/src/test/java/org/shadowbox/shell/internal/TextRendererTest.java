package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Converter;
import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.shell.internal.Views.MemRead;
import org.shadowbox.shell.internal.Views.NotifierRow;
import org.shadowbox.shell.internal.Views.SlotRow;
import org.shadowbox.shell.internal.Views.TrackRow;
import org.shadowbox.shell.internal.Views.VmRow;
import org.shadowbox.vm.VmStats;

class TextRendererTest {

    record Box(String name, Table slots, VmStats stats) implements View {
    }

    @Test
    void tablesAlignColumnsAndRightAlignNumbers() {
        Table t = Table.of(SlotRow.class, List.of(
                new SlotRow(0, 0x0, 0xa0, 0xa0, 0xa0L << 12, "-", 3, 0L),
                new SlotRow(1, 0x100, 0x3ff00, 0x40000, 0x3ff00L << 12, "readonly,dirty-log", 0, null)));
        assertEquals(String.join("\n",
                "ID  BASE GFN  NPAGES  END GFN      SIZE  FLAGS               RESIDENT  TRACKED",
                " 0       0x0     160     0xa0   640 KiB  -                          3        0",
                " 1     0x100  261888  0x40000  1023 MiB  readonly,dirty-log         0        -"),
                TextRenderer.render(t));
    }

    @Test
    void anEmptyTableStillHasItsHeader() {
        assertEquals("NAME  VCPUS  MEMORY  PAGES  SLOTS  RESIDENT  HELD  BUDGET",
                TextRenderer.render(Table.of(VmRow.class, List.of())));
    }

    @Test
    void recordsAreKeyValueBlocksWithHexAndDecimal() {
        assertEquals(String.join("\n",
                "vm:      demo",
                "gpa:     0x1000",
                "size:    8",
                "value:   0xffffffffffffffff (18446744073709551615)",
                "backing: mmio hole"),
                TextRenderer.render(new MemRead("demo", 0x1000, 8, -1L, "mmio hole")));
    }

    @Test
    void nestedTablesAndRecordsAreIndented() {
        Box b = new Box("demo", Table.of(VmRow.class, List.of(new VmRow("x", 2, 1L << 30, 262144, 2, 5, 20480, 1L << 30))),
                new VmStats(1, 0, 2, 0, 0, 5, 3));
        assertEquals(String.join("\n",
                "name:  demo",
                "slots:",
                "  NAME  VCPUS  MEMORY   PAGES  SLOTS  RESIDENT    HELD  BUDGET",
                "  x         2   1 GiB  262144      2         5  20 KiB   1 GiB",
                "stats:",
                "  emulated writes:     1",
                "  cmpxchg failed:      0",
                "  host writes:         2",
                "  mmio reads:          0",
                "  mmio writes dropped: 0",
                "  resident pages:      5",
                "  slot changes:        3"),
                TextRenderer.render(b));
    }

    @Test
    void mapsListsBooleansEnumsAndLongCells() {
        String err = "x".repeat(100);
        Table t = Table.of(NotifierRow.class, List.of(new NotifierRow("demo", "a.B", "a", 10, 10, true, err)));
        String[] lines = TextRenderer.render(t).split("\n");
        assertEquals("demo  a.B   a          10        10  yes       " + "x".repeat(57) + "...", lines[1]);
        Table tracks = Table.of(TrackRow.class,
                List.of(new TrackRow(0x1234, TrackMode.WRITE, 3, Map.of("org.shadowbox.shell", 1, "audit", 2))));
        assertEquals("0x1234  write      3  audit=2, org.shadowbox.shell=1", TextRenderer.render(tracks).split("\n")[1]);
        assertEquals("-", TextRenderer.scalar(List.of(), null));
        assertEquals("a, b", TextRenderer.scalar(List.of("a", "b"), null));
    }

    @Test
    void lineLevelIsOneLine() {
        assertEquals("vm=demo gpa=0x10 size=1 value=0x7 (7) backing=slot 0",
                TextRenderer.line(new MemRead("demo", 0x10, 1, 7, "slot 0")));
        assertEquals("2 vm rows", TextRenderer.line(Table.of(VmRow.class,
                List.of(new VmRow("a", 1, 0, 0, 0, 0, 0, 0), new VmRow("b", 1, 0, 0, 0, 0, 0, 0)))));
    }

    @Test
    void converterRendersOnlyShadowboxViews() throws Exception {
        ShellConverter c = new ShellConverter();
        MemRead r = new MemRead("demo", 0x10, 1, 7, "slot 0");
        assertEquals(TextRenderer.render(r), c.format(r, Converter.INSPECT, null));
        assertEquals(TextRenderer.line(r), c.format(r, Converter.LINE, null));
        assertEquals("demo", c.format(r, Converter.PART, null));
        assertNull(c.format("a string", Converter.INSPECT, null));
        assertNull(c.format(List.of(1), Converter.INSPECT, null));
        assertNull(c.format(new VmStats(0, 0, 0, 0, 0, 0, 0), Converter.INSPECT, null), "not a View: Gogo's own");
        assertNull(c.convert(long.class, "0x10"));
    }
}
