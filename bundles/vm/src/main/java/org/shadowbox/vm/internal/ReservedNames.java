package org.shadowbox.vm.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.osgi.framework.Bundle;

/**
 * Symbolic names under {@code org.shadowbox.} belong to the platform's own jars: the bundles the
 * launcher installs, and the tracker jars it ships in its plugins folder ({@code
 * shadowbox.plugins.dir}, by default {@code ${shadowbox.workspace}/plugins}). A shipped jar is
 * known by its content, not by where it was installed from: the SHA-256 of its entries (names
 * and bytes, sorted) must equal that of a jar in the folder. A bundle installed at run time
 * under a reserved name with any other content is refused: it never resolves.
 */
final class ReservedNames {
    /** The reserved prefix; {@code org.shadowbox} itself is reserved too. */
    static final String PREFIX = "org.shadowbox.";

    private final Path pluginsDir;
    private final Set<String> shipped = new HashSet<>();
    /** Bundle id to "lastModified:digest" (a bundle's content changes only by update). */
    private final Map<Long, String> digests = new java.util.concurrent.ConcurrentHashMap<>();

    ReservedNames(Path pluginsDir) {
        this.pluginsDir = pluginsDir;
        if (pluginsDir == null || !Files.isDirectory(pluginsDir)) {
            return;
        }
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(pluginsDir, "*.jar")) {
            for (Path jar : jars) {
                shipped.add(digest(jar));
            }
        } catch (IOException e) {
            System.getLogger("org.shadowbox.vm").log(System.Logger.Level.WARNING,
                    "cannot read the shipped tracker jars in " + pluginsDir + ": " + e.getMessage());
        }
    }

    static boolean reserved(String symbolicName) {
        return symbolicName != null && (symbolicName.equals("org.shadowbox") || symbolicName.startsWith(PREFIX));
    }

    /** Whether {@code b}'s content is that of a tracker jar the platform ships. */
    boolean shipped(Bundle b) {
        if (shipped.isEmpty()) {
            return false;
        }
        String key = b.getLastModified() + ":";
        String cached = digests.get(b.getBundleId());
        if (cached == null || !cached.startsWith(key)) {
            cached = key + digest(b);
            digests.put(b.getBundleId(), cached);
        }
        return shipped.contains(cached.substring(key.length()));
    }

    /** The one-line refusal for a bundle outside the platform under a reserved name. */
    String refusal(String symbolicName) {
        return "symbolic name " + symbolicName + " is reserved to the platform's own jars (the bundles the launcher"
                + " installs and the trackers it ships in " + (pluginsDir == null ? "its plugins folder" : pluginsDir)
                + "): refused; give the bundle a name of its own (docs/trust-model.md)";
    }

    private static String digest(Path jar) throws IOException {
        Map<String, byte[]> entries = new TreeMap<>();
        try (JarFile f = new JarFile(jar.toFile(), false)) {
            for (Enumeration<JarEntry> e = f.entries(); e.hasMoreElements();) {
                JarEntry entry = e.nextElement();
                if (!entry.isDirectory()) {
                    try (InputStream in = f.getInputStream(entry)) {
                        entries.put(entry.getName(), in.readAllBytes());
                    }
                }
            }
        }
        return digest(entries);
    }

    /**
     * The digest of a bundle's own entries. Through {@link Bundle#getEntryPaths} and
     * {@link Bundle#getEntry}, which never resolve the bundle ({@code findEntries} would, and this
     * runs inside the resolver).
     */
    private static String digest(Bundle b) {
        Map<String, byte[]> entries = new TreeMap<>();
        java.util.ArrayDeque<String> dirs = new java.util.ArrayDeque<>();
        dirs.add("/");
        try {
            while (!dirs.isEmpty()) {
                Enumeration<String> paths = b.getEntryPaths(dirs.poll());
                while (paths != null && paths.hasMoreElements()) {
                    String path = paths.nextElement();
                    if (path.endsWith("/")) {
                        dirs.add(path);
                        continue;
                    }
                    URL u = b.getEntry(path);
                    if (u != null) {
                        try (InputStream in = u.openStream()) {
                            entries.put(path.startsWith("/") ? path.substring(1) : path, in.readAllBytes());
                        }
                    }
                }
            }
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
        return digest(entries);
    }

    private static String digest(Map<String, byte[]> entries) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                md.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(java.nio.ByteBuffer.allocate(8).putLong(e.getValue().length).array());
                md.update(e.getValue());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
