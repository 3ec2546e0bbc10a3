package org.shadowbox.console.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Works around a shutdown race of Gogo runtime 1.1.6, so that a run ends on its own output.
 *
 * <p>The runtime tracks its sessions in a {@code WeakHashMap} and, when it stops, copies
 * them with {@code keySet().toArray(new CommandSession[size()])} and closes every slot. A
 * session that nobody closed and that the garbage collector takes between {@code size()} and
 * the copy leaves a null slot: the stop fails with a NullPointerException that Felix prints
 * on stdout as the last lines of a run. Two measures: every session that runs a command is
 * kept reachable here (the runtime closes them all when it stops), and when the framework
 * begins to stop, the runtime is stopped first, from here, so that a failure of its stop is
 * caught instead of printed by the start-level thread. Nothing is kept longer than the
 * framework runs.
 */
@Component(immediate = true)
public final class SessionKeeper implements CommandSessionListener, SynchronousBundleListener {
    static final String GOGO_RUNTIME = "org.apache.felix.gogo.runtime";

    private final Set<CommandSession> sessions = ConcurrentHashMap.newKeySet();
    private final BundleContext context;

    @Activate
    public SessionKeeper(BundleContext context) {
        this.context = context;
        context.addBundleListener(this);
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
    public void bundleChanged(BundleEvent event) {
        if (event.getType() != BundleEvent.STOPPING || event.getBundle().getBundleId() != 0) {
            return;
        }
        for (Bundle b : context.getBundles()) {
            if (GOGO_RUNTIME.equals(b.getSymbolicName()) && b.getState() == Bundle.ACTIVE) {
                try {
                    b.stop(Bundle.STOP_TRANSIENT);
                } catch (BundleException | RuntimeException e) {
                    // The race above; the framework goes on stopping either way.
                }
            }
        }
    }

    @Override
    public void beforeExecute(CommandSession session, CharSequence command) {
        sessions.add(session);
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
        // nothing: the session was kept when the command began
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Object result) {
        // nothing: the session was kept when the command began
    }
}
