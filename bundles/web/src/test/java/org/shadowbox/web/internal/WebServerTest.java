package org.shadowbox.web.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class WebServerTest {
    private static WebServer bind(int port, int attempts) throws Exception {
        return WebServer.bind(port, attempts, null, new LiveEvents(null, null), () -> null, new StaticFiles(WebServerTest.class.getClassLoader()));
    }

    /** A port nobody listens on now, with the next one free too (best effort: the OS hands them out). */
    private static ServerSocket taken() throws Exception {
        return new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
    }

    @Test
    void aTakenPortMovesToTheNextFreeOne() throws Exception {
        try (ServerSocket busy = taken()) {
            int p = busy.getLocalPort();
            WebServer w = bind(p, 20);
            try {
                assertTrue(w.port() > p && w.port() < p + 20, "port " + w.port() + " after " + p);
                assertEquals("http://127.0.0.1:" + w.port() + "/", w.url());
            } finally {
                w.stop();
            }
        }
    }

    @Test
    void givesUpAfterTheAttemptsWithOneLine() throws Exception {
        try (ServerSocket busy = taken()) {
            int p = busy.getLocalPort();
            BindException e = assertThrows(BindException.class, () -> bind(p, 1));
            assertEquals("ports " + p + " to " + p + " on 127.0.0.1 are all taken: set web.port in"
                    + " workspace/config/org.shadowbox.web.cfg", e.getMessage());
        }
    }

    @Test
    void splitsPathsAndQueries() {
        assertEquals(List.of("vms", "demo", "gfns", "0x100"), WebServer.segments("/vms/demo//gfns/0x100/"));
        assertEquals(List.of("../x"), WebServer.segments("/..%2Fx"));
        assertEquals(Map.of("vm", "demo", "interval", "500", "flag", ""), WebServer.query("vm=demo&interval=500&flag&vm=other"));
        assertEquals(400, assertThrows(HttpError.class, () -> WebServer.segments("/%zz")).status);
    }

    @Test
    void servesOnlyItsOwnFiles() {
        StaticFiles f = new StaticFiles(WebServerTest.class.getClassLoader());
        assertTrue(new String(f.get("/").bytes(), java.nio.charset.StandardCharsets.UTF_8).contains("<title>Shadowbox"));
        assertEquals("text/javascript; charset=utf-8", f.get("/app.js").type());
        assertEquals(null, f.get("/../bnd.bnd"));
        assertEquals(null, f.get("/web/app.js"));
        assertEquals(null, f.get("/META-INF/MANIFEST.MF"));
    }

    @Test
    void numbersAreHexOrDecimalAndNotNegative() {
        assertEquals(256, Api.number("gfn", "0x100"));
        assertEquals(256, Api.number("gfn", " 256 "));
        for (String bad : List.of("-1", "x", "", "0x", "99999999999999999999")) {
            HttpError e = assertThrows(HttpError.class, () -> Api.number("gfn", bad), bad);
            assertEquals(400, e.status);
            assertTrue(e.getMessage().contains("accepted a number, 0x hex or decimal"), e.getMessage());
        }
    }

    @Test
    void errorsAreOneLineOfJson() {
        assertEquals("{\"error\":\"no VM named 'x'\\nsecond\"}", Api.error("no VM named 'x'\nsecond"));
        assertEquals("first", Shell.oneLine(" first \n  at org.example.Foo(Foo.java:1)"));
    }
}
