package org.shadowbox.web.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.shadowbox.command.Json;

/**
 * {@code GET /api/events?vm=VM}: server-sent events, one {@code sample} event per interval
 * with the VM's MMU counters (mmu:stats), its write-flood counters (flood:stats), the background
 * runs (run:jobs) and the plugins (plugin:list), each as the command returns it with
 * {@code --json}. The page charts the differences between samples. A stream ends when the
 * client goes, the VM goes (an {@code end} event says why) or the server stops.
 */
final class LiveEvents {
    /** Streams served at once; more get a 503 (each holds a server thread). */
    static final int MAX_STREAMS = 8;
    static final int MIN_INTERVAL_MS = 100;
    static final int MAX_INTERVAL_MS = 10_000;

    private final Shell shell;
    private final Api api;
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closed;

    LiveEvents(Shell shell, Api api) {
        this.shell = shell;
        this.api = api;
    }

    /** The interval parameter: 100 to 10000 ms, default 500. */
    static int interval(String text) {
        if (text == null) {
            return 500;
        }
        long v = Api.number("interval", text);
        if (v < MIN_INTERVAL_MS || v > MAX_INTERVAL_MS) {
            throw HttpError.badRequest("bad interval '" + text + "': accepted " + MIN_INTERVAL_MS + " to "
                    + MAX_INTERVAL_MS + " (milliseconds)");
        }
        return (int) v;
    }

    /** Checks the request; the stream itself is {@link #stream}. */
    String vm(String name) {
        if (name == null) {
            throw HttpError.badRequest("missing vm: accepted /api/events?vm=NAME");
        }
        return api.vm(name).name();
    }

    boolean acquire() {
        if (open.incrementAndGet() > MAX_STREAMS) {
            open.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Writes samples until the client or the VM goes or the server stops; the caller has sent the headers. */
    void stream(String vm, int intervalMs, OutputStream out) throws IOException {
        try {
            long seq = 0;
            out.write(("retry: 2000\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (!closed && !Thread.currentThread().isInterrupted()) {
                String data;
                try {
                    data = sample(vm, seq++);
                } catch (HttpError e) {
                    send(out, "end", Api.error(e.getMessage()));
                    return;
                } catch (RuntimeException e) {
                    send(out, "end", Api.error("internal error: " + Shell.oneLine(String.valueOf(e.getMessage()))));
                    return;
                }
                send(out, "sample", data);
                try {
                    Thread.sleep(intervalMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        } finally {
            open.decrementAndGet();
        }
    }

    private String sample(String vm, long seq) {
        api.vm(vm); // 404 once the VM is gone
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", seq);
        m.put("t", System.currentTimeMillis());
        m.put("vm", vm);
        Map<String, Object> stats = new LinkedHashMap<>();
        for (Map<String, Object> row : ShellJson.rows(shell.json("mmu:stats", "--json", vm))) {
            stats.put(String.valueOf(row.get("name")), row.get("value"));
        }
        m.put("mmu", stats);
        m.put("flood", optional(() -> ShellJson.parse(shell.json("flood:stats", "--json", vm))));
        m.put("jobs", ShellJson.parse(shell.json("run:jobs", "--json")));
        m.put("plugins", optional(() -> ShellJson.parse(shell.json("plugin:list", "--json"))));
        return Json.encode(m, false);
    }

    /** A part whose bundle may be missing: null then, and the rest of the sample goes on. */
    private static Object optional(java.util.function.Supplier<Object> part) {
        try {
            return part.get();
        } catch (HttpError e) {
            if (e.status == 503) {
                return null;
            }
            throw e;
        }
    }

    private static void send(OutputStream out, String event, String data) throws IOException {
        out.write(("event: " + event + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    void close() {
        closed = true;
    }

    /** For tests: streams open now. */
    int open() {
        return open.get();
    }
}
