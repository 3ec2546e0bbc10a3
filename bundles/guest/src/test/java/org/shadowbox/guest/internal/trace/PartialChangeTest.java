package org.shadowbox.guest.internal.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.GuestCounts;
import org.shadowbox.guest.ScenarioResult;

/**
 * A munmap or mprotect of part of a mapping is re-enacted as Linux does it: the area split
 * ({@code split_vma}), then only the part inside the range changed. One process maps 6 anonymous
 * pages read-write and touches them all (its 40 recorded first touches outnumber its 31 pages),
 * then changes part of the mapping; the same trace without that call is the reference. The
 * runner verifies the guest's memory and page tables after each replay.
 */
class PartialChangeTest {

    /** The process's trace, with {@code change} (an event line at t=1000, or null) before its exit. */
    static TraceScenario trace(String change) throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add(TraceReaderTest.HEADER);
        lines.add("{\"t\":0,\"p\":10,\"e\":\"exec\",\"f\":\"relro\",\"sz\":16}");
        lines.add("{\"t\":10,\"p\":10,\"e\":\"mmap\",\"a\":\"100\",\"n\":6,\"r\":\"rw-\",\"s\":0,\"an\":1,\"fx\":0}");
        if (change != null) {
            lines.add(change);
        }
        lines.add("{\"t\":1001,\"p\":10,\"e\":\"exit\",\"code\":0,\"ut\":0,\"st\":0,\"flt\":40}");
        lines.add("{\"e\":\"end\",\"events\":" + (lines.size() - 1) + ",\"processes\":1}");
        byte[] gz = TraceReaderTest.gz(lines.toArray(new String[0]));
        return TraceScenario.ofStream("partial", "test", "partial", () -> new ByteArrayInputStream(gz)).load();
    }

    record Replayed(GuestCounts counts, Map<String, Object> report) {
    }

    static Replayed replay(String change) throws Exception {
        TraceScenario s = trace(change);
        ScenarioResult r = TraceReplayTest.bareMetal(s, 3);
        return new Replayed(r.counts(), s.report());
    }

    static String mprotect(String page, int n) {
        return "{\"t\":1000,\"p\":10,\"e\":\"mprotect\",\"a\":\"" + page + "\",\"n\":" + n + ",\"r\":\"r--\"}";
    }

    @Test
    void relroMprotectOfTheFirstPagesSplitsTheAreaAndWritesOnlyTheirPtes() throws Exception {
        Replayed base = replay(null);
        Replayed relro = replay(mprotect("100", 4));
        assertEquals(1L, relro.report().get("partial_mprotects"), relro.report().toString());
        assertEquals(1L, relro.report().get("areas_split"), relro.report().toString());
        assertEquals(1, relro.counts().mprotects(), "one mprotect of the split-off part");
        assertEquals(base.counts().pteWrites() + 4, relro.counts().pteWrites(),
                "the 4 present ptes in the range lose write, the 2 above keep it: " + base.counts() + " / " + relro.counts());
    }

    @Test
    void anMprotectInsideTheMappingSplitsItTwice() throws Exception {
        Replayed base = replay(null);
        Replayed mid = replay(mprotect("101", 2));
        assertEquals(2L, mid.report().get("areas_split"), mid.report().toString());
        assertEquals(base.counts().pteWrites() + 2, mid.counts().pteWrites(), base.counts() + " / " + mid.counts());
    }

    @Test
    void aWholeMappingMprotectSplitsNothing() throws Exception {
        Replayed base = replay(null);
        Replayed whole = replay(mprotect("100", 6));
        assertEquals(0L, whole.report().get("areas_split"), whole.report().toString());
        assertEquals(0L, whole.report().get("partial_mprotects"), whole.report().toString());
        assertEquals(base.counts().pteWrites() + 6, whole.counts().pteWrites(), base.counts() + " / " + whole.counts());
    }

    @Test
    void aPartialMunmapUnmapsOnlyItsPages() throws Exception {
        Replayed base = replay(null);
        Replayed cut = replay("{\"t\":1000,\"p\":10,\"e\":\"munmap\",\"a\":\"104\",\"n\":2}");
        assertEquals(1L, cut.report().get("partial_munmaps"), cut.report().toString());
        assertEquals(1L, cut.report().get("areas_split"), cut.report().toString());
        assertEquals(base.counts().munmaps() + 1, cut.counts().munmaps(), base.counts() + " / " + cut.counts());
        // the same pages are freed, two of them by the munmap instead of at exit
        assertEquals(base.counts().pagesFreed(), cut.counts().pagesFreed(), base.counts() + " / " + cut.counts());
    }

    @Test
    void aMapFixedMappingReplacesThePartOfTheOlderOneItCovers() throws Exception {
        Replayed base = replay(null);
        Replayed fixed = replay("{\"t\":1000,\"p\":10,\"e\":\"mmap\",\"a\":\"102\",\"n\":2,\"r\":\"r--\",\"s\":0,\"an\":0,\"fx\":1}");
        assertEquals(1L, fixed.report().get("map_fixed_replaced"), fixed.report().toString());
        assertEquals(2L, fixed.report().get("areas_split"), "pages 2-3 cut out of the 6: " + fixed.report());
        assertEquals(base.counts().munmaps() + 1, fixed.counts().munmaps(), base.counts() + " / " + fixed.counts());
        assertEquals(base.counts().mmaps() + 1, fixed.counts().mmaps(), base.counts() + " / " + fixed.counts());
    }
}
