package org.shadowbox.console.internal;

import java.util.Map;
import java.util.WeakHashMap;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.apache.felix.service.command.Job;
import org.jline.terminal.Terminal;
import org.jline.terminal.Terminal.Signal;
import org.jline.terminal.Terminal.SignalHandler;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.shadowbox.command.Interrupts;

/**
 * Ctrl-C in the interactive shell asks a command that registered with {@link Interrupts} to
 * stop, instead of interrupting its threads as Gogo does (see there for why that breaks the
 * terminal). Other commands get Gogo's handling, unchanged.
 *
 * <p>Gogo's interactive loop installs its INT handler on the terminal when the loop starts,
 * after the login profile. So the handler is (re)installed before each statement the session
 * executes: this is a {@link CommandSessionListener}, and {@code beforeExecute} runs on the
 * shell's thread before the statement's job starts. The handler wraps whatever handler it
 * replaced, and hands it every Ctrl-C no Shadowbox command claims.
 */
@Component(immediate = true, service = CommandSessionListener.class)
public final class CtrlC implements CommandSessionListener {
    /** Gogo's session variable that holds the console's JLine terminal. */
    static final String TERMINAL = ".terminal";

    private final boolean active;
    private final Map<Terminal, Handler> installed = new WeakHashMap<>();

    @Activate
    public CtrlC(BundleContext context) {
        active = !JLineTerminalLoader.isBatch(context);
    }

    @Deactivate
    synchronized void deactivate() {
        installed.forEach((terminal, handler) -> {
            SignalHandler current = terminal.handle(Signal.INT, handler.gogo);
            if (current != handler) {
                terminal.handle(Signal.INT, current); // someone else's now: leave it
            }
        });
        installed.clear();
    }

    @Override
    public void beforeExecute(CommandSession session, CharSequence command) {
        if (active && session.get(TERMINAL) instanceof Terminal terminal) {
            install(terminal, session);
        }
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Object result) {
    }

    private synchronized void install(Terminal terminal, CommandSession session) {
        Handler ours = installed.computeIfAbsent(terminal, t -> new Handler(session));
        SignalHandler previous = terminal.handle(Signal.INT, ours);
        if (previous != ours) {
            ours.gogo = previous;
        }
    }

    /** Ctrl-C: Shadowbox's stop for a registered command, else the handler it replaced. */
    static final class Handler implements SignalHandler {
        private final CommandSession session;
        volatile SignalHandler gogo = SignalHandler.SIG_DFL;

        Handler(CommandSession session) {
            this.session = session;
        }

        @Override
        public void handle(Signal signal) {
            Job foreground = session.foregroundJob();
            if (Interrupts.interrupt(foreground)) {
                return;
            }
            SignalHandler next = gogo;
            if (next != SignalHandler.SIG_DFL && next != SignalHandler.SIG_IGN) {
                next.handle(signal);
            }
        }
    }
}
