package org.shadowbox.console.internal;

import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Lets the interactive Gogo console get a real terminal (line editing, history, TAB
 * completion) instead of JLine's "dumb" fallback.
 *
 * <p>JLine 3.26 looks its terminal providers (jni, exec, ...) up as resources of the
 * <em>thread context class loader</em>. The Gogo JLine bundle builds its terminal while it
 * starts, on a framework thread whose context loader is the launcher's, which cannot see
 * JLine's resources: every provider is "not found" and JLine falls back to a dumb terminal.
 * While the Gogo JLine bundle starts, this listener (synchronous: it runs on the thread
 * that starts the bundle, just before and just after its activator) sets that thread's
 * context class loader to the class loader of the bundle that gives Gogo the
 * {@code org.jline.terminal} package, and restores it afterwards. The console thread that
 * Gogo creates during its start inherits it.
 *
 * <p>Not used in batch modes: there the Gogo console is not interactive and
 * {@code ./shadowbox} asks JLine for a dumb terminal.
 */
@Component(immediate = true)
public final class JLineTerminalLoader implements SynchronousBundleListener {

    static final String GOGO_JLINE = "org.apache.felix.gogo.jline";
    static final String TERMINAL_PACKAGE = "org.jline.terminal";

    private final BundleContext context;
    private Thread starter;
    private ClassLoader previous;

    @Activate
    public JLineTerminalLoader(BundleContext context) {
        this.context = context;
        if (isBatch(context)) {
            return;
        }
        context.addBundleListener(this);
    }

    static boolean isBatch(BundleContext context) {
        return context.getProperty(BatchConsole.COMMAND_PROPERTY) != null
                || context.getProperty(BatchConsole.FILE_PROPERTY) != null;
    }

    @Deactivate
    void deactivate() {
        try {
            context.removeBundleListener(this);
        } catch (IllegalStateException e) {
            // the framework is stopping
        }
    }

    @Override
    public synchronized void bundleChanged(BundleEvent event) {
        if (!GOGO_JLINE.equals(event.getBundle().getSymbolicName())) {
            return;
        }
        Thread current = Thread.currentThread();
        switch (event.getType()) {
            case BundleEvent.STARTING -> {
                ClassLoader jline = terminalLoader(event.getBundle());
                if (jline != null) {
                    starter = current;
                    previous = current.getContextClassLoader();
                    current.setContextClassLoader(jline);
                }
            }
            case BundleEvent.STARTED, BundleEvent.STOPPED -> {
                if (starter == current) {
                    current.setContextClassLoader(previous);
                    starter = null;
                    previous = null;
                }
            }
            default -> {
                // other events change nothing
            }
        }
    }

    /** The class loader of the bundle wired to Gogo JLine for org.jline.terminal, or null. */
    static ClassLoader terminalLoader(Bundle gogoJLine) {
        BundleWiring wiring = gogoJLine.adapt(BundleWiring.class);
        if (wiring == null) {
            return null;
        }
        List<BundleWire> wires = wiring.getRequiredWires(PackageNamespace.PACKAGE_NAMESPACE);
        for (BundleWire wire : wires) {
            Object name = wire.getCapability().getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE);
            if (TERMINAL_PACKAGE.equals(name)) {
                BundleWiring provider = wire.getProviderWiring();
                return provider == null ? null : provider.getClassLoader();
            }
        }
        return null;
    }
}
