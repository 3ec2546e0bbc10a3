package org.shadowbox.console.internal;

import java.io.File;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleListener;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Says what FileInstall did with the jars in its folders, one line each: a bundle installed,
 * updated or uninstalled; a bundle that failed to start (with the {@code plugin:diag} to run);
 * a jar it ignores because it is not an OSGi bundle (no {@code Bundle-SymbolicName}, which is
 * what a Maven jar without bnd's manifest looks like). The lines go to the platform logger,
 * which {@code ./shadowbox} formats as one {@code shadowbox: ...} line. Interactive only.
 */
@Component(immediate = true)
public final class DeployNotices implements BundleListener, FrameworkListener {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.deploy");
    /** How often the folders are looked at for jars that are not bundles. */
    static final long SCAN_MILLIS = 1000;

    private final BundleContext context;
    private final File[] folders;
    private final ScheduledExecutorService scanner;
    /** Jars seen that are no bundle, by path, with the modification time already reported. */
    private final Map<String, Long> seen = new HashMap<>();

    @Activate
    public DeployNotices(BundleContext context) {
        this.context = context;
        // Batch runs (scripts, -c) print only what their statements print.
        String dirs = JLineTerminalLoader.isBatch(context) ? null : context.getProperty("felix.fileinstall.dir");
        String[] names = dirs == null ? new String[0] : dirs.split(",");
        folders = new File[names.length];
        for (int i = 0; i < names.length; i++) {
            folders[i] = new File(names[i].trim()).getAbsoluteFile();
        }
        if (folders.length == 0) {
            scanner = null;
            return;
        }
        context.addBundleListener(this);
        context.addFrameworkListener(this);
        scanner = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "shadowbox-deploy-notices");
            t.setDaemon(true);
            return t;
        });
        scanner.scheduleWithFixedDelay(this::scan, SCAN_MILLIS, SCAN_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    void deactivate() {
        if (scanner == null) {
            return;
        }
        scanner.shutdownNow();
        context.removeBundleListener(this);
        context.removeFrameworkListener(this);
    }

    /** The deployed file's name when {@code b} came from a watched folder, else null. */
    String deployed(Bundle b) {
        String location = b.getLocation();
        for (File f : folders) {
            int at = location.indexOf(f.getPath() + File.separator);
            if (at >= 0) {
                return location.substring(at + f.getPath().length() + 1);
            }
        }
        return null;
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        Bundle b = event.getBundle();
        String file = deployed(b);
        if (file == null) {
            return;
        }
        String what = switch (event.getType()) {
            case BundleEvent.INSTALLED -> "installed";
            case BundleEvent.UPDATED -> "updated";
            case BundleEvent.UNINSTALLED -> "uninstalled";
            default -> null;
        };
        if (what != null) {
            LOG.log(Level.INFO, "deploy: " + what + " " + b.getSymbolicName() + " " + b.getVersion() + " (bundle "
                    + b.getBundleId() + ") from " + file);
        }
    }

    @Override
    public void frameworkEvent(FrameworkEvent event) {
        Bundle b = event.getBundle();
        if (event.getType() != FrameworkEvent.ERROR || b == null || deployed(b) == null) {
            return;
        }
        Throwable t = event.getThrowable();
        String why = t == null || t.getMessage() == null ? "unknown error" : t.getMessage().replaceAll("\\s*\\R\\s*", " ");
        LOG.log(Level.WARNING, "deploy: " + b.getSymbolicName() + " from " + deployed(b) + " did not start: " + why
                + " (plugin:diag " + b.getBundleId() + " explains)");
    }

    /** Reports each jar of the folders that is not a bundle, once per version of the file. */
    void scan() {
        try {
            for (File folder : folders) {
                File[] jars = folder.listFiles((d, n) -> n.endsWith(".jar"));
                for (File jar : jars == null ? new File[0] : jars) {
                    Long reported = seen.get(jar.getPath());
                    if (reported != null && reported == jar.lastModified()) {
                        continue;
                    }
                    seen.put(jar.getPath(), jar.lastModified());
                    String why = notABundle(jar);
                    if (why != null) {
                        LOG.log(Level.WARNING, "deploy: ignored " + jar.getName() + ": " + why);
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "deploy scan failed", e);
        }
    }

    /** Why {@code jar} is not an OSGi bundle, or null when it is one. */
    static String notABundle(File jar) {
        try (JarFile j = new JarFile(jar)) {
            Manifest m = j.getManifest();
            if (m == null) {
                return "not an OSGi bundle: no manifest";
            }
            if (m.getMainAttributes().getValue("Bundle-SymbolicName") == null) {
                return "not an OSGi bundle: no Bundle-SymbolicName (built by Maven without bnd's manifest? set"
                        + " maven-jar-plugin's manifestFile)";
            }
            return null;
        } catch (IOException e) {
            return "not a jar: " + e.getMessage();
        }
    }
}
