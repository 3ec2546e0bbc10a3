package org.shadowbox.web.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Map;

/**
 * The page's files, from {@code /web} in this bundle: a fixed list, so no request path ever
 * reaches the class loader.
 */
final class StaticFiles {
    record File(String type, byte[] bytes) {
    }

    private static final Map<String, String> FILES = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/app.js", "app.js",
            "/views.js", "views.js",
            "/style.css", "style.css",
            "/favicon.svg", "favicon.svg");

    private final ClassLoader loader;

    StaticFiles(ClassLoader loader) {
        this.loader = loader;
    }

    /** The file at {@code path}, or null. */
    File get(String path) {
        String name = FILES.get(path);
        if (name == null) {
            return null;
        }
        URL u = loader.getResource("web/" + name);
        if (u == null) {
            return null;
        }
        try (InputStream in = u.openStream()) {
            return new File(type(name), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String type(String name) {
        if (name.endsWith(".html")) {
            return "text/html; charset=utf-8";
        }
        if (name.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        }
        if (name.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        if (name.endsWith(".svg")) {
            return "image/svg+xml";
        }
        return "application/octet-stream";
    }
}
