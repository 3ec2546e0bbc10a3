package org.shadowbox.guest.internal.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.GuestCounts;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.guest.internal.Runner;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/** A real recorded trace (tools/test/three-children.sh under tools/record.sh) replayed on bare metal. */
class TraceReplayTest {
    static final String THREE = "traces/three-children.jsonl.gz";

    static TraceScenario three() {
        return TraceScenario.ofStream("three-children", "test", THREE,
                () -> TraceReplayTest.class.getClassLoader().getResourceAsStream(THREE)).load();
    }

    static ScenarioResult bareMetal(TraceScenario s, long seed) {
        Runner r = new Runner();
        r.add(s);
        Vm vm = new HypervisorImpl().createVm(VmSpec.pc("g", 256L << 20, 2).with(VmSpec.PAGING, "64"));
        return r.run(s.name(), vm, i -> new BareMetalCpu(vm.vcpu(i)), 1, seed, null);
    }

    @Test
    void theGuestDoesWhatWasRecorded() {
        TraceScenario s = three();
        ScenarioResult res = bareMetal(s, 1);
        GuestCounts c = res.counts();
        Trace t = s.trace();
        assertEquals(t.processes().size(), c.processes(), "processes");
        assertEquals(t.count(TraceProcess.FORK) + t.count(TraceProcess.VFORK), c.forks(), "forks");
        assertEquals(t.count(TraceProcess.EXEC), c.execs(), "execs");
        assertEquals(t.processes().size(), c.exits(), "exits");
        Map<String, Object> rep = s.report();
        long touches = (Long) rep.get("first_touches");
        long unplaced = (Long) rep.get("first_touches_unplaced");
        long recorded = 0;
        for (TraceProcess p : t.processes()) {
            recorded += p.faults;
        }
        assertEquals(recorded, touches + unplaced, "every recorded first touch made or counted as unplaced: " + rep);
        assertTrue(c.pageFaults() >= touches, "each first touch is a demand fault: " + c + " " + rep);
        assertEquals(Math.round(t.measured("minflt")), (Long) rep.get("recorded_minor_faults"));
    }

    @Test
    void theSameSeedReplaysTheSame() {
        ScenarioResult a = bareMetal(three(), 5);
        ScenarioResult b = bareMetal(three(), 5);
        assertEquals(a.counts(), b.counts(), "seed 5");
        assertEquals(a.checksum(), b.checksum(), "seed 5");
    }

    @Test
    void resourceIsARealRecording() throws Exception {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(THREE)) {
            Trace t = TraceReader.read(in, THREE);
            assertEquals(4, t.processes().size(), "the shell and its three children");
        }
    }
}
