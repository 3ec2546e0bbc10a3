package org.shadowbox.console.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.osgi.service.component.annotations.Component;

/**
 * Keeps every Gogo session that runs a command strongly reachable until the framework stops.
 *
 * <p>Gogo runtime 1.1.6 tracks its sessions in a {@code WeakHashMap} and, when it stops,
 * copies them with {@code keySet().toArray(new CommandSession[size()])} and closes every
 * slot. A session that nobody closed (the one gogo.jline runs its profile in, for one) and
 * that the garbage collector takes between {@code size()} and the copy leaves a null slot:
 * the stop fails with a NullPointerException that Felix prints on stdout as the last lines
 * of a run. Holding the sessions here closes that window; the runtime closes them all at
 * its stop, so nothing is kept longer than the framework runs. A few sessions a run (the
 * shell's, a script's) are all that accumulate.
 */
@Component(immediate = true)
public final class SessionKeeper implements CommandSessionListener {
    private final Set<CommandSession> sessions = ConcurrentHashMap.newKeySet();

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

    int kept() {
        return sessions.size();
    }
}
