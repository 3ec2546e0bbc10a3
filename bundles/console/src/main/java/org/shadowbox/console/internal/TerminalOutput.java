package org.shadowbox.console.internal;

import java.io.PrintStream;
import java.util.Map;
import java.util.WeakHashMap;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.jline.terminal.Terminal;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.shadowbox.command.ShellTerminal;

/**
 * Gives the interactive session's commands the terminal itself, for what they redraw in place
 * ({@link ShellTerminal}): the session variable {@value ShellTerminal#OUTPUT_VARIABLE} is a
 * {@link PrintStream} on JLine's terminal output, whose {@code flush()} reaches the screen.
 * Gogo's pipe, a command's {@code System.out}, does not pass a flush on to that output, so a
 * progress bar written there stayed in JLine's buffer until the next line end.
 *
 * <p>Set before each statement, as {@link CtrlC} installs its handler: Gogo's interactive loop
 * puts the terminal in the session ({@value CtrlC#TERMINAL}) after the login profile. Only on a
 * real terminal: JLine's dumb terminal (the shell reading a pipe) and the batch modes get none.
 */
@Component(immediate = true, service = CommandSessionListener.class)
public final class TerminalOutput implements CommandSessionListener {
    private final boolean active;
    private final Map<Terminal, PrintStream> streams = new WeakHashMap<>();

    @Activate
    public TerminalOutput(BundleContext context) {
        active = !JLineTerminalLoader.isBatch(context);
    }

    @Override
    public void beforeExecute(CommandSession session, CharSequence command) {
        if (active && session.get(CtrlC.TERMINAL) instanceof Terminal terminal && !dumb(terminal)) {
            PrintStream out = streamOf(terminal);
            if (session.get(ShellTerminal.OUTPUT_VARIABLE) != out) {
                session.put(ShellTerminal.OUTPUT_VARIABLE, out);
            }
        }
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Object result) {
    }

    private synchronized PrintStream streamOf(Terminal terminal) {
        return streams.computeIfAbsent(terminal, t -> new PrintStream(t.output(), false, t.encoding()));
    }

    /** JLine's stand-in when stdin or stdout is no terminal: nothing there to redraw. */
    static boolean dumb(Terminal terminal) {
        String type = terminal.getType();
        return type == null || Terminal.TYPE_DUMB.equals(type) || Terminal.TYPE_DUMB_COLOR.equals(type);
    }
}
