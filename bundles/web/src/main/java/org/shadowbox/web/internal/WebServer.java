package org.shadowbox.web.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The HTTP server: the JDK's {@link HttpServer} bound to 127.0.0.1 only, on the first free port
 * from the configured one up. It checks every request with {@link Access}, serves the API below
 * {@code /api}, the event stream at {@code /api/events}, and the page's files from the bundle.
 * A failure inside never shows a stack trace: the client gets one line of JSON.
 */
final class WebServer {
    static final String HOST = "127.0.0.1";
    private static final int MAX_BODY = 64 * 1024;
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private final HttpServer server;
    private final ExecutorService threads;
    private final Api api;
    private final LiveEvents events;
    private final Supplier<Access> access;
    private final StaticFiles files;

    private WebServer(HttpServer server, Api api, LiveEvents events, Supplier<Access> access, StaticFiles files) {
        this.server = server;
        this.api = api;
        this.events = events;
        this.access = access;
        this.files = files;
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "shadowbox-web");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", this::exchange);
    }

    /**
     * Binds the first free port of {@code port .. port + attempts - 1} on 127.0.0.1; requests
     * wait in the backlog until {@link #begin}.
     *
     * @throws BindException naming the ports tried when none was free
     */
    static WebServer bind(int port, int attempts, Api api, LiveEvents events, Supplier<Access> access,
            StaticFiles files) throws IOException {
        InetAddress loopback = InetAddress.getByName(HOST);
        int last = Math.min(65535, port + Math.max(1, attempts) - 1);
        for (int p = port; p <= last; p++) {
            HttpServer s;
            try {
                s = HttpServer.create(new InetSocketAddress(loopback, p), 64);
            } catch (BindException taken) {
                continue;
            }
            return new WebServer(s, api, events, access, files);
        }
        throw new BindException("ports " + port + " to " + last + " on " + HOST + " are all taken: set web.port in"
                + " workspace/config/org.shadowbox.web.cfg");
    }

    /** Starts answering. */
    void begin() {
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    String url() {
        return "http://" + HOST + ":" + port() + "/";
    }

    void stop() {
        events.close();
        server.stop(0);
        threads.shutdownNow();
        try {
            threads.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void exchange(HttpExchange ex) throws IOException {
        try {
            Headers h = ex.getRequestHeaders();
            Headers r = ex.getResponseHeaders();
            r.set("X-Content-Type-Options", "nosniff");
            r.set("Referrer-Policy", "no-referrer");
            r.set("Content-Security-Policy", CSP);
            r.set("Cache-Control", "no-store");
            access.get().checkOrigin(h.getFirst("Host"), h.getFirst("Origin"), h.getFirst("Sec-Fetch-Site"));
            URI uri = ex.getRequestURI();
            String path = uri.getRawPath();
            String method = ex.getRequestMethod();
            if (path.equals("/api/events")) {
                events(ex, query(uri.getRawQuery()));
                return;
            }
            if (path.equals("/api") || path.startsWith("/api/")) {
                List<String> segments = segments(path.substring(4));
                String body = method.equals("POST") || method.equals("DELETE") ? body(ex.getRequestBody()) : null;
                Api.Reply reply = api.handle(method, segments, query(uri.getRawQuery()), body,
                        h.getFirst(Access.TOKEN_HEADER));
                send(ex, reply.status(), "application/json; charset=utf-8", reply.json(), method.equals("HEAD"));
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                throw new HttpError(405, "method " + method + " not allowed here: accepted GET");
            }
            StaticFiles.File f = files.get(path);
            if (f == null) {
                throw HttpError.notFound("no page " + path + ": the view is at /");
            }
            r.set("Cache-Control", "no-cache");
            send(ex, 200, f.type(), f.bytes(), method.equals("HEAD"));
        } catch (HttpError e) {
            send(ex, e.status, "application/json; charset=utf-8", Api.error(e.getMessage()), false);
        } catch (IOException e) {
            throw e; // the client went away: nothing to answer
        } catch (RuntimeException | LinkageError | AssertionError e) {
            String what = e.getMessage() == null ? e.getClass().getSimpleName() : Shell.oneLine(e.getMessage());
            send(ex, 500, "application/json; charset=utf-8", Api.error("internal error: " + what), false);
        } finally {
            ex.close();
        }
    }

    private void events(HttpExchange ex, Map<String, String> query) throws IOException {
        if (!ex.getRequestMethod().equals("GET")) {
            throw new HttpError(405, "method " + ex.getRequestMethod() + " not allowed: accepted GET");
        }
        String vm = events.vm(query.get("vm"));
        int interval = LiveEvents.interval(query.get("interval"));
        if (!events.acquire()) {
            throw new HttpError(503, "too many event streams open (at most " + LiveEvents.MAX_STREAMS
                    + "): close a tab and retry");
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            events.stream(vm, interval, out);
        } catch (IOException gone) {
            // the client closed the stream
        }
    }

    private static void send(HttpExchange ex, int status, String type, String body, boolean head) throws IOException {
        send(ex, status, type, body.concat("\n").getBytes(StandardCharsets.UTF_8), head);
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body, boolean head) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        if (head) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static String body(InputStream in) throws IOException {
        byte[] b = in.readNBytes(MAX_BODY + 1);
        if (b.length > MAX_BODY) {
            throw new HttpError(413, "the body is over " + MAX_BODY + " bytes: accepted one small JSON object");
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    /** "/vms/demo/" to [vms, demo]; percent-escapes are decoded, empty segments dropped. */
    static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(decode(s));
            }
        }
        return out;
    }

    static Map<String, String> query(String raw) {
        Map<String, String> m = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return m;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            m.putIfAbsent(k, v);
        }
        return m;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("bad percent-escape in '" + s + "'");
        }
    }
}
