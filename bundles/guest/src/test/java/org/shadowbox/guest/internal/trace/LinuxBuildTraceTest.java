package org.shadowbox.guest.internal.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The shipped kernel-build trace: readable, as large as its header says, with its provenance. */
class LinuxBuildTraceTest {

    @Test
    void theShippedTraceIsARealKernelBuildWithItsProvenance() throws Exception {
        Trace t;
        try (InputStream in = LinuxBuild.class.getClassLoader().getResourceAsStream(LinuxBuild.RESOURCE)) {
            assertNotNull(in, LinuxBuild.RESOURCE + " is in the bundle");
            t = TraceReader.read(in, LinuxBuild.RESOURCE);
        }
        Map<?, ?> counts = (Map<?, ?>) t.header().get("counts");
        assertEquals(((Number) counts.get("processes")).longValue(), t.processes().size(), "processes as the header counts");
        Map<?, ?> events = (Map<?, ?>) counts.get("events");
        assertEquals(((Number) events.get("exec")).longValue(), t.count(TraceProcess.EXEC), "execs as the header counts");
        assertTrue(t.processes().size() > 5_000, "a kernel build is thousands of processes: " + t.processes().size());
        assertTrue(t.measured("minflt") > 1_000_000, "and millions of first touches: " + t.measured("minflt"));
        String prov = t.header().get("provenance").toString();
        for (String s : new String[] {"linux-source-6.1=", "gcc=", "make=", "strace=", "tinyconfig", "sha256", "vmlinux",
                "nproc", "tools/record-linux-build.sh"}) {
            assertTrue(prov.contains(s), "provenance names " + s + ": " + prov);
        }
        boolean cc1 = false;
        for (Trace.Image i : t.images()) {
            cc1 |= i.name().equals("cc1");
        }
        assertTrue(cc1, "the compiler proper ran");
    }
}
