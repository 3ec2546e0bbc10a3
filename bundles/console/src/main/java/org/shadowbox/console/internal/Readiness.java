package org.shadowbox.console.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;
import org.shadowbox.vm.Hypervisor;

/**
 * Waits, within one bounded time, until a batch run can start: the framework has reached
 * its final start level (so every command of every bundle that was starting is
 * registered), FileInstall has turned every {@code *.cfg} file of its watched folders
 * into a configuration, and each VM those configurations describe exists.
 *
 * <p>Never blocks past the deadline: whatever is not ready by then gets a one-line warning
 * on stderr and the run goes on.
 */
final class Readiness {

    /** FileInstall's configuration property naming the file a configuration came from. */
    static final String FILEINSTALL_FILENAME = "felix.fileinstall.filename";
    /** FileInstall's folder list (comma separated), a framework property. */
    static final String FILEINSTALL_DIR = "felix.fileinstall.dir";
    /** The factory PID of VM configurations (implemented by the vm bundle). */
    static final String VM_FACTORY_PID = "org.shadowbox.vm";

    private static final long POLL_MILLIS = 5;

    private final BundleContext context;
    private final StartLevelWatch startLevel;
    private final PrintStream err;
    private final long deadline;

    /**
     * @param deadline {@link System#nanoTime()} after which nothing is waited for any more
     */
    Readiness(BundleContext context, StartLevelWatch startLevel, PrintStream err, long deadline) {
        this.context = context;
        this.startLevel = startLevel;
        this.err = err;
        this.deadline = deadline;
    }

    /** Waits for all three conditions in turn, warning about each one not met in time. */
    void await() {
        List<Path> configFiles = configFilesPresent();
        if (!waitFor(startLevel::reached)) {
            warn("the framework did not reach start level " + startLevel.target()
                    + "; some commands may be missing");
        }
        Map<Path, Configuration> configs = awaitConfigurations(configFiles);
        awaitVms(configs);
    }

    /** The {@code *.cfg} and {@code *.config} files in FileInstall's folders right now. */
    List<Path> configFilesPresent() {
        List<Path> files = new ArrayList<>();
        String dirs = context.getProperty(FILEINSTALL_DIR);
        if (dirs == null) {
            return files;
        }
        for (String dir : dirs.split(",")) {
            if (dir.isBlank()) {
                continue;
            }
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(Paths.get(dir.strip()), "*.{cfg,config}")) {
                for (Path file : stream) {
                    files.add(file.toAbsolutePath().normalize());
                }
            } catch (IOException | RuntimeException e) {
                warn("cannot list configuration folder " + dir.strip() + ": " + e.getMessage());
            }
        }
        return files;
    }

    private Map<Path, Configuration> awaitConfigurations(List<Path> files) {
        Map<Path, Configuration> found = new LinkedHashMap<>();
        if (files.isEmpty()) {
            return found;
        }
        ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> tracker = new ServiceTracker<>(context,
                ConfigurationAdmin.class, null);
        tracker.open();
        try {
            waitFor(() -> {
                ConfigurationAdmin admin = tracker.getService();
                if (admin == null) {
                    return false;
                }
                for (Configuration config : listConfigurations(admin, "(" + FILEINSTALL_FILENAME + "=*)")) {
                    Path file = fileOf(config);
                    if (file != null && files.contains(file)) {
                        found.put(file, config);
                    }
                }
                return found.size() == files.size();
            });
        } finally {
            tracker.close();
        }
        for (Path file : files) {
            if (!found.containsKey(file)) {
                warn("configuration " + file.getFileName() + " was not loaded by FileInstall in time");
            }
        }
        return found;
    }

    private void awaitVms(Map<Path, Configuration> configs) {
        Map<String, Path> vms = new LinkedHashMap<>();
        for (Map.Entry<Path, Configuration> entry : configs.entrySet()) {
            Configuration config = entry.getValue();
            Dictionary<String, Object> properties = config.getProperties();
            if (VM_FACTORY_PID.equals(config.getFactoryPid()) && properties != null
                    && properties.get("name") != null) {
                vms.put(String.valueOf(properties.get("name")).strip(), entry.getKey());
            }
        }
        if (vms.isEmpty()) {
            return;
        }
        ServiceTracker<Hypervisor, Hypervisor> tracker = new ServiceTracker<>(context, Hypervisor.class, null);
        tracker.open();
        try {
            // Wait for the service only if some bundle declares it will register one (bnd
            // declares DS components' services); one registered another way counts if it
            // is already there.
            if (!hypervisorDeclared() && tracker.getService() == null) {
                warn("no bundle provides " + Hypervisor.class.getName() + "; VM(s) " + vms.keySet()
                        + " not created");
                return;
            }
            boolean serviceSeen = waitFor(() -> tracker.getService() != null);
            if (!serviceSeen) {
                warn("the " + Hypervisor.class.getSimpleName() + " service did not appear; VM(s) "
                        + vms.keySet() + " not checked");
                return;
            }
            waitFor(() -> vms.keySet().stream().allMatch(name -> hasVm(tracker.getService(), name)));
            for (Map.Entry<String, Path> vm : vms.entrySet()) {
                if (!hasVm(tracker.getService(), vm.getKey())) {
                    warn("VM '" + vm.getKey() + "' described by " + vm.getValue().getFileName()
                            + " does not exist yet");
                }
            }
        } finally {
            tracker.close();
        }
    }

    /**
     * Whether some bundle declares (in its manifest, as bnd writes it for a DS component)
     * that it registers a Hypervisor service. Without one, waiting for it is pointless.
     */
    private boolean hypervisorDeclared() {
        for (Bundle bundle : context.getBundles()) {
            BundleRevision revision = bundle.adapt(BundleRevision.class);
            if (revision == null) {
                continue;
            }
            for (BundleCapability capability : revision.getDeclaredCapabilities("osgi.service")) {
                Object classes = capability.getAttributes().get("objectClass");
                if (classes instanceof List<?> list && list.contains(Hypervisor.class.getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Asks the vm bundle, guarded: a failing Hypervisor counts as "not there yet". */
    private static boolean hasVm(Hypervisor hypervisor, String name) {
        if (hypervisor == null) {
            return false;
        }
        try {
            return hypervisor.vm(name).isPresent();
        } catch (Exception | LinkageError | AssertionError e) {
            return false;
        }
    }

    private static Configuration[] listConfigurations(ConfigurationAdmin admin, String filter) {
        try {
            Configuration[] configs = admin.listConfigurations(filter);
            return configs == null ? new Configuration[0] : configs;
        } catch (Exception e) {
            return new Configuration[0];
        }
    }

    /** The file FileInstall loaded {@code config} from, or {@code null}. */
    static Path fileOf(Configuration config) {
        Dictionary<String, Object> properties = config.getProperties();
        Object name = properties == null ? null : properties.get(FILEINSTALL_FILENAME);
        if (name == null) {
            return null;
        }
        try {
            String text = name.toString();
            Path path = text.startsWith("file:") ? Paths.get(URI.create(text)) : Paths.get(text);
            return path.toAbsolutePath().normalize();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Polls {@code condition} until it holds or the deadline passes; true if it held. */
    private boolean waitFor(BooleanSupplier condition) {
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private void warn(String message) {
        err.println("shadowbox: warning: " + message);
    }
}
