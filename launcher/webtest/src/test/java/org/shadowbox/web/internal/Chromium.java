package org.shadowbox.web.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.shadowbox.command.Json;

/**
 * Debian's chromium, headless, driven over the DevTools protocol (a WebSocket from the JDK's
 * HTTP client): navigate, evaluate JavaScript in the page, take a screenshot. Started with the
 * flags this closed network needs (no background networking, no component updates, no sync)
 * and a profile folder of its own.
 */
final class Chromium implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();

    /** The chromium on PATH, or null. */
    static Path find() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    Chromium(Path binary, Path profile, int width, int height) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "about:blank");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        process = pb.start();
        String browserWs = null;
        StringBuilder seen = new StringBuilder();
        long t0 = System.nanoTime();
        BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        try {
            CompletableFuture<String> found = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (seen) {
                            if (seen.length() < 20_000) {
                                seen.append(line).append('\n');
                            }
                        }
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            found.complete(m.group(1));
                        }
                    }
                } catch (IOException e) {
                    // chromium ended
                }
                found.complete(null);
            }, "chromium-stderr");
            t.setDaemon(true);
            t.start();
            // the first start on a fresh machine builds font caches: minutes under load
            browserWs = found.get(300, TimeUnit.SECONDS);
            log("DevTools address after", t0);
            if (browserWs == null) {
                throw new IllegalStateException("chromium printed no DevTools address:\n" + seen);
            }
            // The page target chromium opened with about:blank.
            URI base = URI.create(browserWs.replaceFirst("^ws://", "http://"));
            HttpClient http = HttpClient.newHttpClient();
            String list = http.send(HttpRequest.newBuilder(base.resolve("/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            String pageWs = null;
            for (Object o : (List<?>) ShellJson.parse(list)) {
                Map<?, ?> target = (Map<?, ?>) o;
                if ("page".equals(target.get("type"))) {
                    pageWs = (String) target.get("webSocketDebuggerUrl");
                    break;
                }
            }
            if (pageWs == null) {
                throw new IllegalStateException("chromium has no page target: " + list);
            }
            log("page target found after", t0);
            socket = http.newWebSocketBuilder().buildAsync(URI.create(pageWs), new Listener()).get(60, TimeUnit.SECONDS);
            log("DevTools connected after", t0);
        } catch (Exception e) {
            close0();
            throw e;
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder buffer = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            buffer.append(data);
            if (last) {
                String text = buffer.toString();
                buffer.setLength(0);
                @SuppressWarnings("unchecked")
                Map<String, Object> msg = (Map<String, Object>) ShellJson.parse(text);
                if (msg.get("id") instanceof Long id) {
                    CompletableFuture<Map<String, Object>> f = pending.remove(id.intValue());
                    if (f != null) {
                        f.complete(msg);
                    }
                }
            }
            ws.request(1);
            return null;
        }
    }

    private static void log(String what, long t0) {
        System.err.printf("chromium: %s %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
    }

    /** Sends one DevTools command and returns its {@code result}, or fails with its error. */
    @SuppressWarnings("unchecked")
    Map<String, Object> call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> f = new CompletableFuture<>();
        pending.put(id, f);
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("id", id);
        msg.put("method", method);
        msg.put("params", params);
        socket.sendText(Json.encode(msg, false), true).get(30, TimeUnit.SECONDS);
        long t0 = System.nanoTime();
        Map<String, Object> reply = f.get(120, TimeUnit.SECONDS);
        if (System.nanoTime() - t0 > 5_000_000_000L) {
            log(method + " answered after", t0);
        }
        if (reply.get("error") != null) {
            throw new IllegalStateException(method + " failed: " + reply.get("error"));
        }
        return (Map<String, Object>) reply.get("result");
    }

    void navigate(String url) throws Exception {
        call("Page.navigate", Map.of("url", url));
    }

    /** The value of a JavaScript expression in the page (promises awaited), or the exception's text. */
    @SuppressWarnings("unchecked")
    Object eval(String expression) throws Exception {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("expression", expression);
        params.put("returnByValue", Boolean.TRUE);
        params.put("awaitPromise", Boolean.TRUE);
        Map<String, Object> r = call("Runtime.evaluate", params);
        if (r.get("exceptionDetails") != null) {
            throw new IllegalStateException("page threw on '" + expression + "': " + r.get("exceptionDetails"));
        }
        return ((Map<String, Object>) r.get("result")).get("value");
    }

    /** Polls {@code expression} until it is true; fails after {@code timeout} with the last value of {@code explain}. */
    void waitFor(String expression, Duration timeout, String explain) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        String threw = null;
        while (true) {
            try {
                if (Boolean.TRUE.equals(eval(expression))) {
                    return;
                }
                threw = null;
            } catch (IllegalStateException notYet) {
                threw = notYet.getMessage(); // the new document has no body yet, say: poll again
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("page: '" + expression + "' still false after " + timeout.toSeconds() + " s; "
                        + (threw != null ? threw : explain + " = " + eval(explain)));
            }
            Thread.sleep(250);
        }
    }

    /** A PNG of the page as it is now, cut below its content (at least 400 pixels high). */
    byte[] screenshot() throws Exception {
        Object h = eval("Math.max(400, Math.ceil(document.querySelector('main').getBoundingClientRect().bottom) + 8)");
        Object w = eval("document.documentElement.clientWidth");
        Map<String, Object> clip = new LinkedHashMap<>();
        clip.put("x", 0);
        clip.put("y", 0);
        clip.put("width", ((Number) w).intValue());
        clip.put("height", ((Number) h).intValue());
        clip.put("scale", 1);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("format", "png");
        params.put("clip", clip);
        params.put("captureBeyondViewport", Boolean.TRUE);
        Map<String, Object> r = call("Page.captureScreenshot", params);
        return Base64.getDecoder().decode((String) r.get("data"));
    }

    @Override
    public void close() {
        close0();
    }

    private void close0() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
