package org.shadowbox.web.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web view as a user meets it: {@code ./shadowbox} started in the background prints the URL;
 * the API answers over plain HTTP; Debian's chromium, headless, opens the page, sees the demo VM,
 * watches the live chart move while a background kernel-build runs, and expands the shadow page
 * tree, whose pages must be those {@code mmu:pages --json} lists in the same sandbox. The port is
 * whatever the sandbox printed (8080 or the next free one): nothing here needs 8080 free.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebViewTest {
    private static final Duration START = Duration.ofSeconds(240);
    private static final Duration SLOW = Duration.ofSeconds(120);

    @TempDir
    static Path tmp;

    private Sandbox sandbox;
    private String url;
    private int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
    private Chromium browser;

    @BeforeAll
    void start() throws Exception {
        Path root = Path.of(System.getProperty("shadowbox.root", "../..")).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(root.resolve("launcher/target/shadowbox.jar")),
                "launcher/target/shadowbox.jar is missing: build the reactor (mvn -B verify)");
        sandbox = new Sandbox(root, tmp.resolve("workspace"));
        Matcher m = sandbox.await(Sandbox.URL, 0, START);
        url = m.group(1);
        port = Integer.parseInt(m.group(2));
        assertEquals(null, m.group(3), "read-only by default: no token in the URL");
        // the shell is up once it answers a command
        int mark = sandbox.mark();
        sandbox.type("echo shell-ready");
        sandbox.await(Pattern.compile("^(g! |shadowbox> )*shell-ready$"), mark, START);
    }

    @AfterAll
    void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (sandbox != null) {
            sandbox.close();
        }
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url).resolve(path)).timeout(SLOW);
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url).resolve(path)).timeout(SLOW)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A one-line JSON error with that status, no stack trace; returns its message. */
    private static String error(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        String body = r.body().strip();
        assertFalse(body.contains("\n"), "one line: " + body);
        assertFalse(body.matches("(?s).*\\bat [a-z]+\\.[a-z].*\\(.*"), "no stack trace: " + body);
        Object v = ShellJson.parse(body);
        assertTrue(v instanceof Map<?, ?> m && m.get("error") instanceof String, body);
        return (String) ((Map<?, ?>) v).get("error");
    }

    @Test
    @Order(1)
    void theUrlIsOnLoopbackAndServesThePage() throws Exception {
        assertTrue(url.startsWith("http://127.0.0.1:"), url);
        HttpResponse<String> r = get("/");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("<title>Shadowbox</title>"), r.body());
        // nothing the page loads comes from the network
        for (String file : List.of("/", "/app.js", "/views.js", "/style.css")) {
            String body = get(file).body();
            assertFalse(body.matches("(?s).*(src|href)=\"(https?:)?//.*"), file + " loads from the network");
            assertFalse(body.contains("import("), file);
        }
        assertTrue(get("/api/status").body().contains("\"mode\":\"read-only\""));
    }

    @Test
    @Order(2)
    void theApiAnswersWithTheShellsRecords() throws Exception {
        List<Map<String, Object>> vms = ShellJson.rows(get("/api/vms").body());
        assertTrue(vms.stream().anyMatch(v -> "demo".equals(v.get("name"))), vms.toString());
        Map<?, ?> info = (Map<?, ?>) ShellJson.parse(get("/api/vms/demo").body());
        assertEquals("demo", info.get("name"));
        assertTrue(info.get("slots") instanceof List<?> l && !l.isEmpty(), info.toString());
        for (String p : List.of("slots", "cpus", "tracks", "notifiers", "shadow-pages", "mmu-stats", "flood-stats",
                "shadow-tree")) {
            HttpResponse<String> r = get("/api/vms/demo/" + p);
            assertEquals(200, r.statusCode(), p + ": " + r.body());
            ShellJson.parse(r.body());
        }
        for (String p : List.of("/api", "/api/plugins", "/api/scenarios", "/api/runs", "/api/compare")) {
            HttpResponse<String> r = get(p);
            assertEquals(200, r.statusCode(), p + ": " + r.body());
            ShellJson.parse(r.body());
        }
        List<Map<String, Object>> stats = ShellJson.rows(get("/api/vms/demo/mmu-stats").body());
        assertTrue(stats.stream().anyMatch(s -> "pf_fixed".equals(s.get("name"))), stats.toString());
        Map<?, ?> gfn = (Map<?, ?>) ShellJson.parse(get("/api/vms/demo/gfns/0x100").body());
        assertEquals(256L, gfn.get("gfn"));
        assertNotNull(gfn.get("slot"));
    }

    @Test
    @Order(3)
    void badInputGetsOneLineOfJson() throws Exception {
        assertTrue(error(get("/api/vms/nosuchvm"), 404).contains("nosuchvm"));
        assertTrue(error(get("/api/vms/nosuchvm/shadow-pages"), 404).contains("accepted demo"));
        assertTrue(error(get("/api/vms/demo/gfns/0x7fffffffff"), 404).contains("no memslot"));
        assertTrue(error(get("/api/runs/999"), 404).contains("999"));
        assertTrue(error(get("/api/compare/compare-none.json"), 404).contains("compare-none.json"));
        assertTrue(error(get("/api/nothing"), 404).contains("GET /api"));
        assertTrue(error(get("/nothing.html"), 404).contains("/nothing.html"));
        assertTrue(error(get("/api/vms/demo/gfns/banana"), 400).contains("accepted a number"));
        assertTrue(error(get("/api/runs/-3"), 400).contains("accepted a number"));
        assertTrue(error(get("/api/vms/bad$name"), 400).contains("accepted 1 to 32"));
        assertTrue(error(get("/api/compare/..%2F..%2Fetc%2Fpasswd"), 400).contains("accepted compare-"));
        assertTrue(error(get("/api/events?vm=demo&interval=5"), 400).contains("accepted 100 to 10000"));
        assertTrue(error(get("/api/events"), 400).contains("vm=NAME"));
        assertTrue(error(get("/api/events?vm=ghost"), 404).contains("ghost"));
    }

    @Test
    @Order(4)
    void otherOriginsAreRefused() throws Exception {
        assertTrue(error(get("/api/vms", "Origin", "http://evil.example"), 403).contains("origin"));
        assertTrue(error(get("/api/vms", "Origin", "http://127.0.0.1:" + (port + 1)), 403).contains("origin"));
        assertTrue(error(get("/api/vms", "Sec-Fetch-Site", "cross-site"), 403).contains("cross-site"));
        assertEquals(200, get("/api/vms", "Origin", "http://127.0.0.1:" + port).statusCode());
        assertEquals(200, get("/api/vms", "Origin", "http://localhost:" + port).statusCode());
        // a page of another site whose name resolves to 127.0.0.1 (DNS rebinding) names itself in Host
        String status = rawStatusLine("GET /api/vms HTTP/1.1\r\nHost: rebind.example:" + port
                + "\r\nConnection: close\r\n\r\n");
        assertTrue(status.startsWith("HTTP/1.1 403"), status);
        assertTrue(get("/api/vms").headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    }

    private String rawStatusLine(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    @Test
    @Order(5)
    void readOnlyByDefault() throws Exception {
        String body = "{\"vm\":\"demo\",\"scenario\":\"kernel-build\"}";
        assertTrue(error(post("/api/runs", body, "Content-Type", "application/json"), 403).startsWith("read-only"));
        assertTrue(error(post("/api/runs/1/stop", ""), 403).startsWith("read-only"));
        assertEquals("[]", get("/api/runs").body().strip(), "nothing was started");
    }

    @Test
    @Order(6)
    void theEventStreamSendsSamples() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url).resolve("/api/events?vm=demo&interval=100"))
                .timeout(SLOW).build();
        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            int samples = 0;
            String line;
            while (samples < 2 && (line = in.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    Map<?, ?> s = (Map<?, ?>) ShellJson.parse(line.substring(6));
                    assertEquals("demo", s.get("vm"));
                    assertTrue(s.get("mmu") instanceof Map<?, ?> m && m.containsKey("exits"), line);
                    samples++;
                }
            }
            assertEquals(2, samples);
        }
    }

    // ---- in a real browser ----

    private Chromium browser() throws Exception {
        if (browser == null) {
            Path bin = Chromium.find();
            assertNotNull(bin, "chromium is not installed: apt-get install chromium (.ci/run installs it)");
            // a profile of its own, outside the @TempDir: chromium leaves a socket link there until it exits
            Path profile = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "chromium-profile");
            browser = new Chromium(bin, profile, 1280, 900);
        }
        return browser;
    }

    @Test
    @Order(10)
    void thePageShowsDemo() throws Exception {
        long t0 = System.nanoTime();
        Chromium b = browser();
        System.err.printf("browser up after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        b.navigate(url + "#overview");
        System.err.printf("navigated after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        b.waitFor("document.body.dataset.ready === '1'", SLOW, "document.getElementById('error').textContent");
        b.waitFor("document.querySelector('#vm-list').textContent.includes('demo')", SLOW,
                "document.querySelector('#vm-list').textContent");
        assertEquals("read-only", b.eval("document.getElementById('mode').textContent"));
        b.waitFor("document.querySelector('#vm-slots').querySelectorAll('tr').length >= 3", SLOW,
                "document.querySelector('#vm-slots').outerHTML");
        assertEquals(Boolean.TRUE, b.eval("document.getElementById('error').hidden"));
    }

    @Test
    @Order(11)
    void aBackgroundKernelBuildAnimatesTheLiveChart() throws Exception {
        Chromium b = browser();
        b.navigate(url + "#live");
        b.waitFor("document.body.dataset.ready === '1'", SLOW, "document.getElementById('error').textContent");
        b.waitFor("Number(document.getElementById('live-chart').dataset.points) >= 2", SLOW,
                "document.getElementById('live-chart').dataset.points");
        int mark = sandbox.mark();
        sandbox.type("run:scenario --background --scale 256 demo kernel-build"); // long enough to watch on an idle machine; stopped below
        sandbox.await(Pattern.compile("run 1: kernel-build on demo started in the background"), mark, SLOW);
        // points keep coming, and the exits series moves: several samples with exits above 0
        b.waitFor("state.rates.exits.filter(v => v > 0).length >= 3", SLOW, "JSON.stringify(state.rates.exits)");
        b.waitFor("document.querySelector('#runs .run[data-state=running]') !== null", SLOW,
                "document.getElementById('runs').textContent");
        Object before = b.eval("Number(document.getElementById('live-chart').dataset.points)");
        b.waitFor("Number(document.getElementById('live-chart').dataset.points) > " + before, SLOW,
                "document.getElementById('live-chart').dataset.points");
        assertTrue((Long) b.eval("document.querySelectorAll('#live-chart polyline').length") >= 5);
        byte[] png = b.screenshot();
        assertNotBlank(png);
        save(png, "web.png");
    }

    @Test
    @Order(12)
    void theShadowTreeHoldsThePagesMmuPagesLists() throws Exception {
        Chromium b = browser();
        int mark = sandbox.mark();
        sandbox.type("run:stop 1");
        sandbox.await(Pattern.compile("run 1 \\(kernel-build on demo\\)"), mark, SLOW);
        long end = System.nanoTime() + SLOW.toNanos();
        while (!get("/api/runs").body().contains("\"state\":\"stopped\"")) {
            assertTrue(System.nanoTime() < end, "run 1 did not stop: " + get("/api/runs").body());
            Thread.sleep(200);
        }
        // the VM is idle now: its shadow pages stay as they are
        mark = sandbox.mark();
        sandbox.type("mmu:pages --json demo");
        Matcher m = sandbox.await(Pattern.compile("(\\[\\{\"id\".*\\]|\\[\\])\\s*$"), mark, SLOW);
        Set<Long> shell = new HashSet<>();
        for (Map<String, Object> row : ShellJson.rows(m.group(1))) {
            shell.add((Long) row.get("id"));
        }
        assertFalse(shell.isEmpty(), "a kernel build leaves shadow pages");

        b.navigate(url + "#tree");
        b.waitFor("document.body.dataset.ready === '1'", SLOW, "document.getElementById('error').textContent");
        b.waitFor("Number(document.getElementById('tree-count').dataset.count) > 0", SLOW,
                "document.getElementById('tree-count').textContent");
        assertEquals((long) shell.size(), b.eval("Number(document.getElementById('tree-count').dataset.count)"));
        b.eval("expandAll(true)");
        @SuppressWarnings("unchecked")
        List<Object> ids = (List<Object>) b.eval(
                "[...new Set([...document.querySelectorAll('#tree-view details[data-id]')].map(d => Number(d.dataset.id)))]");
        Set<Long> shown = new HashSet<>();
        for (Object o : ids) {
            shown.add((Long) o);
        }
        assertEquals(shell, shown, "the expanded tree shows exactly the pages mmu:pages lists");
        // every root's children are the pages its present sptes point at: at least one link is drawn
        assertTrue((Long) b.eval("document.querySelectorAll('#tree-view details details').length") > 0);
        save(b.screenshot(), "web-tree.png");
    }

    @Test
    @Order(13)
    void aScreenshotIsNotBlank() throws Exception {
        Chromium b = browser();
        b.navigate(url + "#overview");
        b.waitFor("document.querySelector('#vm-list').textContent.includes('demo')", SLOW,
                "document.querySelector('#vm-list').textContent");
        byte[] png = b.screenshot();
        assertNotBlank(png);
        save(png, "web-overview.png");
    }

    @Test
    @Order(14)
    void theFrameMapCountsTheTrackedPagesOfTheSlot() throws Exception {
        Map<?, ?> slot = (Map<?, ?>) ShellJson.rows(get("/api/vms/demo/slots").body()).get(1);
        long base = (Long) slot.get("baseGfn");
        long end = base + (Long) slot.get("npages");
        Set<Long> tracked = new HashSet<>();
        for (Map<String, Object> t : ShellJson.rows(get("/api/vms/demo/tracks").body())) {
            long gfn = (Long) t.get("gfn");
            if (gfn >= base && gfn < end && (Long) t.get("count") > 0) {
                tracked.add(gfn);
            }
        }
        assertFalse(tracked.isEmpty(), "pagetrack write-tracks the guest tables the kernel build shadowed");
        Chromium b = browser();
        b.navigate(url + "#frames");
        b.waitFor("document.getElementById('frames-summary').dataset.tracked !== undefined", SLOW,
                "document.getElementById('error').textContent");
        assertEquals("1", b.eval("document.getElementById('slot-select').value"));
        assertEquals(Long.toString(tracked.size()), b.eval("document.getElementById('frames-summary').dataset.tracked"));
        long cells = (Long) b.eval("document.querySelectorAll('#frames-svg rect.tracked').length");
        assertTrue(cells > 0 && cells <= tracked.size(), cells + " cells for " + tracked.size() + " pages");
        assertTrue(((String) b.eval("document.querySelector('#frames-svg rect.tracked title').textContent"))
                .contains("tracked page"));
        save(b.screenshot(), "web-frames.png");
    }

    @Test
    @Order(15)
    void aCompareResultIsChartedBesideTheSeed() throws Exception {
        sandbox.type("run:compare kernel-build --scale 1");
        long end = System.nanoTime() + Duration.ofSeconds(600).toNanos();
        List<Map<String, Object>> results;
        while ((results = ShellJson.rows(get("/api/compare").body())).isEmpty()) {
            assertTrue(System.nanoTime() < end, "run:compare wrote no result:\n" + sandbox.output());
            Thread.sleep(500);
        }
        String name = (String) results.get(0).get("name");
        Map<?, ?> c = (Map<?, ?>) ShellJson.parse(get("/api/compare/" + name).body());
        assertEquals("kernel-build", c.get("scenario"));
        Chromium b = browser();
        b.navigate(url + "#compare");
        b.waitFor("document.querySelectorAll('#compare-view svg').length === 2", SLOW,
                "document.getElementById('compare-view').textContent");
        assertEquals(name, b.eval("document.getElementById('compare-select').value"));
        String text = (String) b.eval("document.getElementById('compare-view').textContent");
        assertTrue(text.contains("The seed's kernel build"), text);
        // the seed's sys time, before and after the series, as the chart's bar labels
        assertTrue(text.contains("1,995.39") && text.contains("1,922.57"), text);
        assertTrue((Long) b.eval("document.querySelectorAll('#compare-view table tr').length") > 4);
        save(b.screenshot(), "web-compare.png");
    }

    private static void assertNotBlank(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(img, "not a PNG");
        assertTrue(img.getWidth() >= 800 && img.getHeight() >= 400, img.getWidth() + "x" + img.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 4) {
            for (int x = 0; x < img.getWidth(); x += 4) {
                colours.add(img.getRGB(x, y));
            }
        }
        assertTrue(colours.size() >= 16, "the screenshot has " + colours.size() + " colours: blank");
    }

    /** Keeps a screenshot in target/; web.png also where -Dshadowbox.screenshot says (the docs' picture). */
    private static void save(byte[] png, String name) throws IOException {
        Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.write(target, png);
        String extra = System.getProperty("shadowbox.screenshot", "");
        if (name.equals("web.png") && !extra.isBlank()) {
            Path p = Path.of(extra);
            Files.createDirectories(p.toAbsolutePath().getParent());
            Files.write(p, png);
        }
    }

    // ---- web.allowChanges ----

    @Test
    @Order(20)
    void changesNeedAllowChangesAndTheToken() throws Exception {
        int mark = sandbox.mark();
        Files.writeString(sandbox.workspace.resolve("config/org.shadowbox.web.cfg"), "web.allowChanges = true\n");
        Matcher m = sandbox.await(Sandbox.URL, mark, SLOW);
        assertEquals(url, m.group(1), "same server, same port");
        String token = m.group(4);
        assertNotNull(token, "the shell shows the token: " + m.group());
        assertTrue(get("/api/status").body().contains("\"mode\":\"changes\""));
        String body = "{\"vm\":\"demo\",\"scenario\":\"kernel-build\"}";
        String json = "application/json";
        assertTrue(error(post("/api/runs", body, "Content-Type", json), 403).startsWith("missing token"));
        assertTrue(error(post("/api/runs", body, "Content-Type", json, Access.TOKEN_HEADER, "0123"), 403)
                .startsWith("wrong token"));
        assertTrue(error(post("/api/runs", body, "Content-Type", json, Access.TOKEN_HEADER, token, "Origin",
                "http://evil.example"), 403).contains("origin"));
        assertTrue(error(post("/api/runs", "{\"vm\":\"ghost\",\"scenario\":\"kernel-build\"}", Access.TOKEN_HEADER,
                token), 404).contains("ghost"));
        assertTrue(error(post("/api/runs", "{\"vm\":\"demo\"}", Access.TOKEN_HEADER, token), 400).contains("scenario"));
        assertTrue(error(post("/api/runs", "not json", Access.TOKEN_HEADER, token), 400).contains("not JSON"));
        HttpResponse<String> started = post("/api/runs", body, "Content-Type", json, Access.TOKEN_HEADER, token);
        assertEquals(201, started.statusCode(), started.body());
        Map<?, ?> job = (Map<?, ?>) ShellJson.parse(started.body());
        assertEquals("demo", job.get("vm"));
        HttpResponse<String> stopped = post("/api/runs/" + job.get("id") + "/stop", "", Access.TOKEN_HEADER, token);
        assertEquals(200, stopped.statusCode(), stopped.body());
        HttpResponse<String> tracked = post("/api/vms/demo/tracks", "{\"gfn\":\"0x200\"}", Access.TOKEN_HEADER, token);
        assertEquals(200, tracked.statusCode(), tracked.body());
        assertTrue(get("/api/vms/demo/tracks").body().contains("\"gfn\":512"), "track:list shows gfn 0x200");
    }
}
