package org.shadowbox.itest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.shadowbox.itest.cycletracker.CycleTracker;
import org.shadowbox.itest.spintracker.SpinTracker;

/**
 * Tracker bundles made at test time: a manifest and class files copied from the test bundle's
 * own classes, so every jar installed is a separate bundle with its own class loader.
 */
final class TrackerJars {
    private TrackerJars() {
    }

    /** The cycle tracker as a bundle jar, with {@code headers} added to its manifest. */
    static byte[] cycleTracker(String bsn, String version, Map<String, String> headers) throws IOException {
        Manifest mf = manifest(bsn, version,
                "org.osgi.framework;version=\"[1.8,2)\",org.shadowbox.pagetrack;version=\"[2.0,3)\","
                        + "org.shadowbox.vm;version=\"[3.0,4)\"");
        mf.getMainAttributes().putValue("Bundle-Activator", CycleTracker.class.getName());
        headers.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
        return jar(mf, CycleTracker.class);
    }

    /** The spin tracker (a callback that never returns and ignores interrupts) watching {@code vm}. */
    static byte[] spinTracker(String bsn, String vm) throws IOException {
        Manifest mf = manifest(bsn, "1.0.0",
                "org.osgi.framework;version=\"[1.8,2)\",org.shadowbox.pagetrack;version=\"[2.0,3)\","
                        + "org.shadowbox.vm;version=\"[3.0,4)\"");
        mf.getMainAttributes().putValue("Bundle-Activator", SpinTracker.class.getName());
        mf.getMainAttributes().putValue(SpinTracker.WATCH, vm);
        return jar(mf, SpinTracker.class);
    }

    /** A bundle whose imports cannot be satisfied, with no classes: it must never resolve. */
    static byte[] unresolvable(String bsn, String imports) throws IOException {
        return jar(manifest(bsn, "1.0.0", imports));
    }

    /** A bundle of no classes under {@code bsn} and {@code version}, importing {@code imports}. */
    static byte[] named(String bsn, String version, String imports) throws IOException {
        return jar(manifest(bsn, version, imports));
    }

    private static Manifest manifest(String bsn, String version, String imports) {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", bsn);
        a.putValue("Bundle-Version", version);
        a.putValue("Import-Package", imports);
        return mf;
    }

    private static byte[] jar(Manifest mf, Class<?>... classes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, mf)) {
            for (Class<?> c : classes) {
                String path = c.getName().replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(path));
                try (InputStream in = c.getClassLoader().getResourceAsStream(path)) {
                    if (in == null) {
                        throw new IOException("class file " + path + " not found in the test bundle");
                    }
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
