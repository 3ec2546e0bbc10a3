package org.shadowbox.guest.internal.trace;

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.shadowbox.command.JsonReader;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

import org.shadowbox.command.JsonReader;

/**
 * Reads a trace (docs/trace-format.md): gzipped JSON lines, a header line, event lines in time
 * order, an end line. Streams: one line in memory at a time, the events kept as primitive arrays
 * per process. Anything malformed or truncated is refused with one {@link TraceException} naming
 * the line (and, for a damaged compressed stream, the byte offset) and what was expected.
 */
final class TraceReader {
    static final String FORMAT = "shadowbox-trace";
    static final int VERSION = 1;
    private static final String EVENTS = "fork, exec, mmap, munmap, mprotect, brk, mremap, wait, exit";

    private final String source;
    private final List<TraceProcess> procs = new ArrayList<>();
    private final Map<Long, TraceProcess> byPid = new HashMap<>();
    private final List<Trace.Image> images = new ArrayList<>();
    private final Map<String, Integer> imageIndex = new HashMap<>();
    private long lineNo;
    private long lastTime;

    private TraceReader(String source) {
        this.source = source;
    }

    /** Reads the whole trace from {@code in} (closed by the caller); {@code source} names it in messages. */
    static Trace read(InputStream in, String source) {
        return new TraceReader(source).readAll(in);
    }

    private Trace readAll(InputStream raw) {
        Counting counted = new Counting(raw);
        PushbackInputStream pb = new PushbackInputStream(counted, 2);
        Map<String, Object> header = null;
        long events = 0;
        boolean ended = false;
        try {
            int b0 = pb.read();
            int b1 = pb.read();
            if (b0 != 0x1f || b1 != 0x8b) {
                throw fail("trace " + source + ": not gzip (it starts with " + hex(b0) + " " + hex(b1)
                        + "); expected a gzipped JSON-lines trace (docs/trace-format.md)");
            }
            pb.unread(b1);
            pb.unread(b0);
            BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(pb, 1 << 16),
                    StandardCharsets.UTF_8), 1 << 16);
            String line;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (ended) {
                    throw at("expected nothing after the end line");
                }
                Map<String, Object> m;
                try {
                    m = JsonReader.parseObject(line);
                } catch (JsonReader.JsonSyntaxException e) {
                    throw at(e.getMessage());
                }
                if (header == null) {
                    header = header(m);
                    continue;
                }
                String e = str(m, "e");
                if (e.equals("end")) {
                    checkEnd(m, events);
                    ended = true;
                    continue;
                }
                event(m, e);
                events++;
            }
        } catch (EOFException e) {
            throw fail("trace " + source + ": truncated after line " + lineNo + " (the compressed stream ends at byte "
                    + counted.count + " without its trailer); expected more lines and the end line {\"e\":\"end\",...}");
        } catch (ZipException e) {
            throw fail("trace " + source + ": damaged compressed data near byte " + counted.count + " (after line " + lineNo
                    + ": " + e.getMessage() + "); expected a gzip stream");
        } catch (IOException e) {
            throw fail("trace " + source + ": cannot read after line " + lineNo + ": " + e.getMessage());
        }
        if (header == null) {
            throw fail("trace " + source + ": empty; expected a header line {\"format\":\"" + FORMAT + "\",\"version\":" + VERSION + ",...}");
        }
        if (!ended) {
            throw fail("trace " + source + ": truncated after line " + lineNo
                    + "; expected more events and the end line {\"e\":\"end\",...}");
        }
        for (TraceProcess p : procs) {
            if (!p.exited()) {
                throw fail("trace " + source + ": process " + p.pid + " has no exit event; expected one per process");
            }
        }
        return new Trace(source, header, List.copyOf(procs), List.copyOf(images), events);
    }

    private Map<String, Object> header(Map<String, Object> m) {
        if (!FORMAT.equals(m.get("format"))) {
            throw at("expected the header {\"format\":\"" + FORMAT + "\",...}, found format " + m.get("format"));
        }
        Object v = m.get("version");
        if (!(v instanceof Long l) || l != VERSION) {
            throw at("trace version " + v + " is not supported; accepted version " + VERSION);
        }
        long root = num(m, "root");
        TraceProcess p = new TraceProcess(0, (int) root, -1, 0);
        procs.add(p);
        byPid.put(root, p);
        if (!(m.get("measured") instanceof Map)) {
            throw at("expected \"measured\": {...} in the header");
        }
        return m;
    }

    private void event(Map<String, Object> m, String e) {
        long t = num(m, "t");
        if (t < lastTime) {
            throw at("time " + t + " is before the previous line's " + lastTime + "; expected events in time order");
        }
        lastTime = t;
        long pid = num(m, "p");
        TraceProcess p = byPid.get(pid);
        if (p == null) {
            throw at("pid " + pid + " was never forked; expected a fork of it first (or it is the root)");
        }
        if (p.exited()) {
            throw at("pid " + pid + " already exited; expected no events after its exit");
        }
        switch (e) {
            case "fork" -> {
                long c = num(m, "c");
                if (byPid.containsKey(c) && !byPid.get(c).exited()) {
                    throw at("fork of pid " + c + ", which is alive; expected a new pid");
                }
                String k = str(m, "k");
                if (!k.equals("fork") && !k.equals("vfork") && !k.equals("clone")) {
                    throw at("fork kind '" + k + "'; accepted fork, vfork, clone");
                }
                TraceProcess child = new TraceProcess(procs.size(), (int) c, p.index, t);
                procs.add(child);
                byPid.put(c, child);
                p.add(k.equals("vfork") ? TraceProcess.VFORK : TraceProcess.FORK, t, 0, 0, child.index, 0);
            }
            case "exec" -> {
                String f = str(m, "f");
                int sz = m.containsKey("sz") ? (int) nonNegative(m, "sz") : -1;
                String key = f + "\0" + sz;
                Integer img = imageIndex.get(key);
                if (img == null) {
                    img = images.size();
                    images.add(new Trace.Image(f, sz));
                    imageIndex.put(key, img);
                }
                p.add(TraceProcess.EXEC, t, 0, 0, img, 0);
            }
            case "mmap" -> {
                int bits = prot(m) | (flag(m, "s") ? TraceProcess.SHARED : 0) | (flag(m, "an") ? TraceProcess.ANON : 0)
                        | (flag(m, "fx") ? TraceProcess.FIXED : 0);
                p.add(TraceProcess.MMAP, t, page(m, "a"), pages(m, "n"), bits, 0);
            }
            case "munmap" -> p.add(TraceProcess.MUNMAP, t, page(m, "a"), pages(m, "n"), 0, 0);
            case "mprotect" -> p.add(TraceProcess.MPROTECT, t, page(m, "a"), pages(m, "n"), prot(m), 0);
            case "brk" -> {
                long n = num(m, "n");
                if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
                    throw at("brk change " + n + " pages; accepted within 32 bits");
                }
                p.add(TraceProcess.BRK, t, page(m, "a"), (int) n, 0, 0);
            }
            case "mremap" -> p.add(TraceProcess.MREMAP, t, page(m, "a"), pages(m, "n"), pages(m, "n2"), page(m, "a2"));
            case "wait" -> p.add(TraceProcess.WAIT, t, 0, 0, 0, num(m, "c"));
            case "exit" -> {
                p.end = t;
                p.exitCode = (int) num(m, "code");
                p.userUs = nonNegative(m, "ut");
                p.sysUs = nonNegative(m, "st");
                p.faults = nonNegative(m, "flt");
                p.add(TraceProcess.EXIT, t, 0, 0, p.exitCode, 0);
            }
            default -> throw at("unknown event '" + e + "'; accepted " + EVENTS + ", end");
        }
    }

    private void checkEnd(Map<String, Object> m, long events) {
        long n = num(m, "events");
        if (n != events) {
            throw at("the end line counts " + n + " events, " + events + " were read; expected equal (lines lost?)");
        }
        long np = num(m, "processes");
        if (np != procs.size()) {
            throw at("the end line counts " + np + " processes, " + procs.size() + " were read; expected equal");
        }
    }

    private int prot(Map<String, Object> m) {
        String r = str(m, "r");
        if (r.length() != 3 || "r-".indexOf(r.charAt(0)) < 0 || "w-".indexOf(r.charAt(1)) < 0 || "x-".indexOf(r.charAt(2)) < 0) {
            throw at("rights \"" + r + "\"; expected three letters like \"rw-\" or \"r-x\"");
        }
        return (r.charAt(0) == 'r' ? TraceProcess.PROT_READ : 0) | (r.charAt(1) == 'w' ? TraceProcess.PROT_WRITE : 0)
                | (r.charAt(2) == 'x' ? TraceProcess.PROT_EXEC : 0);
    }

    private boolean flag(Map<String, Object> m, String k) {
        long v = num(m, k);
        if (v != 0 && v != 1) {
            throw at("\"" + k + "\" is " + v + "; accepted 0 or 1");
        }
        return v == 1;
    }

    private int pages(Map<String, Object> m, String k) {
        long v = num(m, k);
        if (v < 0 || v > (1 << 26)) {
            throw at("\"" + k + "\" is " + v + " pages; accepted 0 to " + (1 << 26));
        }
        return (int) v;
    }

    private long page(Map<String, Object> m, String k) {
        String s = str(m, k);
        try {
            long v = Long.parseUnsignedLong(s, 16);
            if (v < 0 || v > (1L << 52)) {
                throw at("\"" + k + "\" is page 0x" + s + "; accepted a 52-bit page number");
            }
            return v;
        } catch (NumberFormatException e) {
            throw at("\"" + k + "\" is \"" + s + "\"; expected a page number in hex");
        }
    }

    private long nonNegative(Map<String, Object> m, String k) {
        long v = num(m, k);
        if (v < 0) {
            throw at("\"" + k + "\" is " + v + "; accepted 0 or more");
        }
        return v;
    }

    private long num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (v instanceof Long l) {
            return l;
        }
        throw at(v == null ? "expected \"" + k + "\": an integer" : "\"" + k + "\" is " + v + "; expected an integer");
    }

    private String str(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (v instanceof String s) {
            return s;
        }
        throw at(v == null ? "expected \"" + k + "\": a string" : "\"" + k + "\" is " + v + "; expected a string");
    }

    private TraceException at(String what) {
        return new TraceException("trace " + source + " line " + lineNo + ": " + what);
    }

    private static TraceException fail(String msg) {
        return new TraceException(msg);
    }

    private static String hex(int b) {
        return b < 0 ? "end of file" : String.format("0x%02x", b);
    }

    /** Counts the compressed bytes read, for messages about a damaged stream. */
    private static final class Counting extends FilterInputStream {
        long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
