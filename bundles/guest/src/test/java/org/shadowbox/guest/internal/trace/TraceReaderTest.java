package org.shadowbox.guest.internal.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;

/** Malformed and truncated traces are refused in one line that names the line (or byte) and what was expected. */
class TraceReaderTest {
    static final String HEADER = "{\"format\":\"shadowbox-trace\",\"version\":1,\"root\":10,\"measured\":{\"user_s\":1.5,\"sys_s\":0.5,\"minflt\":100}}";
    static final String FORK = "{\"t\":5,\"p\":10,\"e\":\"fork\",\"c\":11,\"k\":\"vfork\",\"vm\":1}";
    static final String EXEC = "{\"t\":6,\"p\":11,\"e\":\"exec\",\"f\":\"cc1\",\"sz\":40}";
    static final String MMAP = "{\"t\":7,\"p\":11,\"e\":\"mmap\",\"a\":\"7f0000000\",\"n\":4,\"r\":\"rw-\",\"s\":0,\"an\":1,\"fx\":0}";
    static final String EXIT11 = "{\"t\":9,\"p\":11,\"e\":\"exit\",\"code\":0,\"ut\":10,\"st\":5,\"flt\":3}";
    static final String WAIT = "{\"t\":9,\"p\":10,\"e\":\"wait\",\"c\":11}";
    static final String EXIT10 = "{\"t\":10,\"p\":10,\"e\":\"exit\",\"code\":0,\"ut\":1,\"st\":1,\"flt\":1}";
    static final String END = "{\"e\":\"end\",\"events\":6,\"processes\":2}";

    static byte[] gz(String... lines) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    static Trace read(byte[] bytes) {
        return TraceReader.read(new ByteArrayInputStream(bytes), "t.gz");
    }

    static String refused(byte[] bytes) {
        String m = assertThrows(TraceException.class, () -> read(bytes)).getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.startsWith("trace t.gz"), "names the trace: " + m);
        return m;
    }

    @Test
    void aWellFormedTraceIsRead() throws IOException {
        Trace t = read(gz(HEADER, FORK, EXEC, MMAP, EXIT11, WAIT, EXIT10, END));
        assertEquals(2, t.processes().size());
        TraceProcess child = t.processes().get(1);
        assertEquals(11, child.pid);
        assertEquals(0, child.parent);
        assertEquals(TraceProcess.VFORK, t.processes().get(0).type[0]);
        assertEquals(3, child.faults);
        assertEquals(new Trace.Image("cc1", 40), t.images().get(0));
        assertEquals(0x7f0000000L, child.addr[1]);
        assertEquals(TraceProcess.PROT_READ | TraceProcess.PROT_WRITE | TraceProcess.ANON, child.arg[1]);
        assertEquals(2_000_000, t.measuredCpuUs());
    }

    @Test
    void notGzip() {
        String m = refused(HEADER.getBytes(StandardCharsets.UTF_8));
        assertTrue(m.contains("not gzip") && m.contains("expected a gzipped JSON-lines trace"), m);
    }

    @Test
    void truncatedCompressedStream() throws IOException {
        byte[] whole = gz(HEADER, FORK, EXEC, MMAP, EXIT11, WAIT, EXIT10, END);
        String m = refused(Arrays.copyOf(whole, whole.length - 12));
        assertTrue(m.contains("truncated") && m.contains("byte") && m.contains("expected"), m);
    }

    @Test
    void missingEndLine() throws IOException {
        String m = refused(gz(HEADER, FORK, EXEC, MMAP, EXIT11, WAIT, EXIT10));
        assertTrue(m.contains("truncated after line 7") && m.contains("expected more events and the end line"), m);
    }

    @Test
    void malformedJsonNamesLineAndColumn() throws IOException {
        String m = refused(gz(HEADER, FORK, "{\"t\":6,\"p\":11,\"e\":\"exec\" \"f\":\"cc1\"}", END));
        assertTrue(m.contains("line 3: column 26: expected ',' or '}'"), m);
    }

    @Test
    void headerChecked() throws IOException {
        assertTrue(refused(gz("{\"format\":\"other\",\"version\":1}", END)).contains("line 1: expected the header"));
        String v = refused(gz("{\"format\":\"shadowbox-trace\",\"version\":2,\"root\":1,\"measured\":{}}", END));
        assertTrue(v.contains("line 1: trace version 2 is not supported; accepted version 1"), v);
        assertTrue(refused(gz()).contains("line 1"), "an empty line is no header");
    }

    @Test
    void eventsChecked() throws IOException {
        assertTrue(refused(gz(HEADER, "{\"t\":5,\"p\":10,\"e\":\"spawn\"}", END)).contains("line 2: unknown event 'spawn'; accepted fork"));
        assertTrue(refused(gz(HEADER, "{\"t\":5,\"p\":99,\"e\":\"exec\",\"f\":\"x\"}", END))
                .contains("line 2: pid 99 was never forked"));
        assertTrue(refused(gz(HEADER, FORK, "{\"t\":4,\"p\":11,\"e\":\"exec\",\"f\":\"x\"}", END))
                .contains("line 3: time 4 is before the previous line's 5"));
        assertTrue(refused(gz(HEADER, FORK, "{\"t\":6,\"p\":11,\"e\":\"mmap\",\"a\":\"xyz\",\"n\":1,\"r\":\"rw-\",\"s\":0,\"an\":1,\"fx\":0}", END))
                .contains("line 3: \"a\" is \"xyz\"; expected a page number in hex"));
        assertTrue(refused(gz(HEADER, FORK, "{\"t\":6,\"p\":11,\"e\":\"mprotect\",\"a\":\"1\",\"n\":1,\"r\":\"rwz\"}", END))
                .contains("line 3: rights \"rwz\""));
        assertTrue(refused(gz(HEADER, FORK, "{\"t\":6,\"p\":11,\"e\":\"munmap\",\"a\":\"1\"}", END))
                .contains("line 3: expected \"n\": an integer"));
        assertTrue(refused(gz(HEADER, FORK, EXEC, MMAP, EXIT11, "{\"t\":9,\"p\":11,\"e\":\"brk\",\"a\":\"1\",\"n\":1}", END))
                .contains("line 6: pid 11 already exited"));
    }

    @Test
    void endLineChecked() throws IOException {
        assertTrue(refused(gz(HEADER, FORK, EXEC, MMAP, EXIT11, WAIT, EXIT10, "{\"e\":\"end\",\"events\":7,\"processes\":2}"))
                .contains("line 8: the end line counts 7 events, 6 were read"));
        assertTrue(refused(gz(HEADER, FORK, EXEC, MMAP, EXIT11, WAIT, EXIT10, END, EXIT10))
                .contains("line 9: expected nothing after the end line"));
        assertTrue(refused(gz(HEADER, FORK, EXEC, MMAP, EXIT11, WAIT, "{\"e\":\"end\",\"events\":5,\"processes\":2}"))
                .contains("process 10 has no exit event"));
    }

    @Test
    void damagedCompressedData() throws IOException {
        byte[] b = gz(HEADER, FORK, EXEC, MMAP, EXIT11, WAIT, EXIT10, END);
        for (int i = 12; i < b.length - 8; i++) {
            b[i] ^= 0x55;
        }
        String m = refused(b);
        assertTrue(m.contains("damaged compressed data") || m.contains("line"), m);
    }

    @Test
    void aStreamThatFailsIsReportedNotThrownRaw() {
        InputStream broken = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("disk gone");
            }
        };
        String m = assertThrows(TraceException.class, () -> TraceReader.read(broken, "b.gz")).getMessage();
        assertTrue(m.contains("trace b.gz") && m.contains("disk gone"), m);
    }
}
