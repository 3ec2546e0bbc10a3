package org.shadowbox.console.internal;

import java.io.File;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

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
 *
 * <p>FileInstall logs through {@code java.util.logging} (logger {@code fileinstall},
 * {@code felix.fileinstall.log.default=jul} in the launcher), with a stack trace when something
 * failed. A filter on that logger makes each of its records one line: its own report of a
 * deployed bundle that did not start becomes this class's line (once per install or update;
 * none when the platform's resolver hook refused it, which says so itself), and any other
 * record keeps its message with the exception's first line, never a backtrace.
 * The filter is there in batch runs too.
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
    /** FileInstall's logger, held strongly so that its filter stays ({@code java.util.logging} keeps loggers weakly). */
    private final Logger fileInstallLog = Logger.getLogger(FILEINSTALL_LOGGER);
    /** Deployed bundles whose failure to start was told since their last install or update. */
    private final Set<Long> told = new HashSet<>();
    /** The logger FileInstall writes to with {@code felix.fileinstall.log.default=jul}. */
    static final String FILEINSTALL_LOGGER = "fileinstall";
    private static final String START_FAILED = "Error while starting bundle: ";
    /** Felix's message when a resolver hook kept a bundle from resolving. */
    static final String HOOK_REFUSAL = "Resolver hook prevented resolution";

    @Activate
    public DeployNotices(BundleContext context) {
        this.context = context;
        fileInstallLog.setFilter(this::oneLine);
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
        fileInstallLog.setFilter(null);
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
            synchronized (told) {
                told.remove(b.getBundleId());
            }
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
        didNotStart(b, event.getThrowable());
    }

    /** The one line for a deployed bundle that did not start, once per install or update. */
    private void didNotStart(Bundle b, Throwable t) {
        synchronized (told) {
            if (!told.add(b.getBundleId())) {
                return;
            }
        }
        LOG.log(Level.WARNING, "deploy: " + b.getSymbolicName() + " from " + deployed(b) + " did not start: " + why(t)
                + " (plugin:diag " + b.getBundleId() + " explains)");
    }

    /** An exception's message on one line. */
    static String why(Throwable t) {
        return t == null || t.getMessage() == null ? "unknown error" : t.getMessage().replaceAll("\\s*\\R\\s*", " ");
    }

    /**
     * The filter on FileInstall's logger: its report of a deployed bundle that did not start is
     * replaced by {@link #didNotStart}'s line, or by nothing when the platform's resolver hook
     * refused the bundle (the hook's own line says why); any other record is kept as one line, the
     * exception's message appended instead of its backtrace.
     */
    boolean oneLine(LogRecord r) {
        String msg = r.getMessage() == null ? "" : r.getMessage();
        if (msg.startsWith(START_FAILED)) {
            Bundle b = context.getBundle(msg.substring(START_FAILED.length()).trim());
            if (b != null && deployed(b) != null) {
                // A refusal of the platform's resolver hook (a reserved name) was told by the hook itself.
                if (!why(r.getThrown()).startsWith(HOOK_REFUSAL)) {
                    didNotStart(b, r.getThrown());
                }
                return false;
            }
        }
        Throwable t = r.getThrown();
        r.setMessage("deploy: " + msg.replaceAll("\\s*\\R\\s*", " ") + (t == null ? "" : ": " + why(t)));
        r.setThrown(null);
        return true;
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
