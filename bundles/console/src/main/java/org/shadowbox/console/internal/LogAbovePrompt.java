package org.shadowbox.console.internal;

import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.jline.reader.LineReader;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * In the interactive console, a log record (a deployed jar, a VM re-created, a bad
 * configuration) is printed above the prompt by the line reader, which then redraws the
 * prompt and what was typed, instead of being written over them. The record keeps the one-line
 * format {@code ./shadowbox} sets for the platform logger. Batch modes are left as they are.
 */
@Component(immediate = true, service = CommandSessionListener.class)
public final class LogAbovePrompt extends Handler implements CommandSessionListener {
    private final boolean active;
    private volatile LineReader reader;
    private Handler[] replaced = new Handler[0];

    @Activate
    public LogAbovePrompt(BundleContext context) {
        active = !JLineTerminalLoader.isBatch(context);
        setFormatter(new SimpleFormatter());
    }

    @Deactivate
    synchronized void deactivate() {
        Logger root = Logger.getLogger("");
        root.removeHandler(this);
        for (Handler h : replaced) {
            root.addHandler(h);
        }
        replaced = new Handler[0];
    }

    @Override
    public void beforeExecute(CommandSession session, CharSequence command) {
        if (active && reader == null && session.get(Completion.READER) instanceof LineReader r) {
            install(r);
        }
    }

    private synchronized void install(LineReader r) {
        Logger root = Logger.getLogger("");
        replaced = root.getHandlers();
        for (Handler h : replaced) {
            root.removeHandler(h);
        }
        setLevel(replaced.length > 0 ? replaced[0].getLevel() : java.util.logging.Level.INFO);
        root.addHandler(this);
        reader = r;
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        String line = getFormatter().format(record);
        LineReader r = reader;
        try {
            r.printAbove(line.endsWith("\n") ? line.substring(0, line.length() - 1) : line);
        } catch (RuntimeException e) {
            System.err.print(line);
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Object result) {
    }
}
