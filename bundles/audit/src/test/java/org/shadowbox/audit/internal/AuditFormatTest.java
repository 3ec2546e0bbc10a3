package org.shadowbox.audit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.VmException;

/** Number parsing, the JSON writer and both renderings of the commands' results. */
class AuditFormatTest {

    @Test
    void gfnsAreHexOrDecimal() {
        assertEquals(0x1234, Numbers.parseGfn("0x1234"));
        assertEquals(0xabc, Numbers.parseGfn("0XABC"));
        assertEquals(4660, Numbers.parseGfn("4660"));
        assertEquals(0, Numbers.parseGfn("0"));
        assertEquals(8, Numbers.parseGfn("08"), "a leading zero is decimal, not octal");
    }

    @Test
    void badGfnsAreRefusedInOneLine() {
        for (String bad : new String[] { "", "x", "0x", "12z", "-1", "0x-5", "1.5", "99999999999999999999", null }) {
            VmException e = assertThrows(VmException.class, () -> Numbers.parseGfn(bad), "input " + bad);
            assertTrue(e.getMessage().startsWith("bad GFN '" + bad + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("0x hex or decimal"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line");
        }
    }

    @Test
    void jsonEscapesAndSeparates() {
        String s = new Json().beginObject()
                .name("s").string("a\"b\\c\nd\u0001")
                .name("n").number(-5)
                .name("u").unsigned(-1L)
                .name("a").beginArray().number(1).bool(false).beginObject().endObject().endArray()
                .name("e").beginArray().endArray()
                .endObject().toString();
        assertEquals("{\"s\":\"a\\\"b\\\\c\\nd\\u0001\",\"n\":-5,\"u\":18446744073709551615,"
                + "\"a\":[1,false,{}],\"e\":[]}", s);
    }

    @Test
    void watchResultRendersBothWays() {
        var r = new AuditFormat.WatchResult("demo", 0x1234, true, 2);
        assertEquals("watching gfn 0x1234 of VM demo (page-track count 2)", AuditFormat.text(r));
        assertEquals("{\"vm\":\"demo\",\"gfn\":4660,\"watching\":true,\"trackCount\":2}", AuditFormat.json(r));
    }

    @Test
    void logResultRendersBothWays() {
        var snap = new WriteLog.Snapshot(7, 5, 2, List.of(
                new AuditEntry.Write(6, 0, 1, 0x1234008, 4, 0xdeadbeefL),
                new AuditEntry.RegionRemoved(7, 1000, 0x100, 0x200, 1)));
        var r = new AuditFormat.LogResult("demo", new long[] { 0x10 }, snap);

        assertEquals("{\"vm\":\"demo\",\"capacity\":2,\"recorded\":7,\"dropped\":5,\"watched\":[16],\"entries\":["
                + "{\"seq\":6,\"time\":\"1970-01-01T00:00:00.000Z\",\"event\":\"write\",\"vcpu\":1,\"gpa\":19087368,"
                + "\"size\":4,\"value\":3735928559},"
                + "{\"seq\":7,\"time\":\"1970-01-01T00:00:01.000Z\",\"event\":\"remove-region\",\"gfn\":256,"
                + "\"npages\":512,\"forgotten\":1}]}", AuditFormat.json(r));

        String[] lines = AuditFormat.text(r).split("\\R");
        assertEquals(4, lines.length);
        assertEquals("VM demo: 7 recorded, 5 dropped (keeps 2); watching 0x10", lines[0]);
        assertTrue(lines[1].matches("\\s+SEQ\\s+TIME\\s+VCPU\\s+GPA\\s+SIZE\\s+VALUE"), lines[1]);
        assertTrue(lines[2].matches("\\s+6\\s+1970-01-01T00:00:00.000Z\\s+1\\s+0x1234008\\s+4\\s+0xdeadbeef"), lines[2]);
        assertTrue(lines[3].contains("slot deleted: gfn 0x100 + 0x200 pages, stopped watching 1 gfn(s)"), lines[3]);
    }

    @Test
    void timesKeepTheirWidthOnAWholeSecond() {
        // Instant.toString() drops a zero fraction: the columns after the time moved on a whole second.
        assertEquals("1970-01-01T00:00:01.000Z", AuditFormat.time(1000));
        assertEquals("1970-01-01T00:00:01.007Z", AuditFormat.time(1007));
        var snap = new WriteLog.Snapshot(2, 0, 2, List.of(
                new AuditEntry.Write(1, 1000, 3, 0x2000018, 8, 7),
                new AuditEntry.Write(2, 1572, 3, 0x2000018, 8, 7)));
        String[] lines = AuditFormat.text(new AuditFormat.LogResult("demo", new long[] { 0x2000 }, snap)).split("\\R");
        assertEquals(lines[1].indexOf("VCPU"), lines[2].indexOf("   3"), lines[1] + "\n" + lines[2]);
        assertEquals(lines[2].indexOf("   3"), lines[3].indexOf("   3"), lines[2] + "\n" + lines[3]);
    }

    @Test
    void emptyLogSaysSo() {
        var r = new AuditFormat.LogResult("demo", new long[0], new WriteLog.Snapshot(0, 0, 10, List.of()));
        assertEquals("VM demo: 0 recorded, 0 dropped (keeps 10); watching nothing", AuditFormat.text(r));
    }
}
