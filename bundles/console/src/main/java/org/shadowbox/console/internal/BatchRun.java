package org.shadowbox.console.internal;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.apache.felix.gogo.runtime.SyntaxError;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.osgi.framework.BundleContext;
import org.shadowbox.console.internal.Statements.Statement;

/**
 * One non-interactive run: waits until the sandbox is ready, reads and parses the
 * program, then runs its statements in a Gogo session with a {@link StatementRunner}, which
 * prints results as the interactive shell does and stops at the first failure (the stack
 * trace only when {@code shadowbox.trace=true}).
 *
 * <p>Registered as the bnd launcher's main {@code Callable}: the launcher calls it on its
 * main thread and, once it returns, stops the framework and exits with the returned code
 * (0 when every statement succeeded, 1 otherwise).
 */
final class BatchRun implements Callable<Integer> {

    static final String WAIT_PROPERTY = "shadowbox.batch.wait";
    static final String TRACE_PROPERTY = "shadowbox.trace";
    static final long DEFAULT_WAIT_MILLIS = 10_000;
    /** How long the framework may take to stop after the run before the JVM is halted. */
    static final long STOP_MILLIS = 10_000;

    /** The program: a -c command line, or the absolute path of a script file. */
    record Program(String command, Path file) {
        String label() {
            return file == null ? null : file.getFileName().toString();
        }
    }

    private final BundleContext context;
    private final CommandProcessor processor;
    private final StartLevelWatch startLevel;
    private final Program program;
    /*
     * The process's own streams. Not System.out/err/in: once Gogo runs, those are Gogo's
     * per-thread streams, and a session writing into them would write into itself.
     */
    private final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
    private final PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
    private final InputStream in = new FileInputStream(FileDescriptor.in);

    BatchRun(BundleContext context, CommandProcessor processor, StartLevelWatch startLevel, Program program) {
        this.context = context;
        this.processor = processor;
        this.startLevel = startLevel;
        this.program = program;
    }

    @Override
    public Integer call() {
        long wait = parseMillis(context.getProperty(WAIT_PROPERTY), DEFAULT_WAIT_MILLIS);
        new Readiness(context, startLevel, err, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait)).await();
        int code = run();
        out.flush();
        err.flush();
        haltIfStopHangs(code);
        return code;
    }

    /** Runs the program; the exit code. */
    int run() {
        CharSequence text;
        try {
            text = program.file() == null ? program.command()
                    : Files.readString(program.file(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            err.println("shadowbox: cannot read " + program.file() + ": " + e.getMessage());
            return 1;
        }
        List<Statement> statements;
        try {
            statements = Statements.split(text);
        } catch (SyntaxError e) {
            String where = program.file() == null ? "" : program.label() + ":" + (e.line() + 1) + ": ";
            err.println("shadowbox: " + where + "syntax error: " + StatementRunner.message(e));
            return 1;
        }
        StatementRunner runner = new StatementRunner(out, err,
                Boolean.parseBoolean(context.getProperty(TRACE_PROPERTY)), program.label());
        CommandSession session = processor.createSession(in, out, err);
        try {
            sourceProfile(session);
            if (program.file() != null) {
                session.put("0", program.file().toUri());
            }
            return runner.runAll(session, statements);
        } finally {
            session.close();
        }
    }

    /**
     * Reads the Gogo profile that the Gogo console reads at login, {@code etc/gosh_profile}
     * under {@code gosh.home} (else the working directory), through Gogo's own
     * {@code source} command, so that the batch session has the same variables and command
     * scopes. {@code ./shadowbox} points {@code gosh.home} at {@code launcher/gosh} in batch
     * modes. Gogo's built-in profile is not used: it configures the line editor and fails
     * without one.
     */
    private void sourceProfile(CommandSession session) {
        String home = context.getProperty("gosh.home");
        Path profile = Paths.get(home != null ? home : System.getProperty("user.dir"), "etc", "gosh_profile");
        if (!Files.isRegularFile(profile)) {
            return;
        }
        try {
            session.execute("gogo:source '" + profile.toUri() + "'");
        } catch (Exception e) {
            err.println("shadowbox: warning: Gogo profile " + profile + " failed: " + StatementRunner.message(e));
        }
    }

    static long parseMillis(String value, long fallback) {
        if (value == null) {
            return fallback;
        }
        try {
            return Math.max(0, Long.parseLong(value.strip()));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /**
     * After this returns, the launcher stops the framework and exits with {@code code}. If a
     * bundle keeps the framework from stopping, this daemon ends the JVM with the same code
     * after {@link #STOP_MILLIS}, so a batch run never hangs on shutdown.
     */
    private void haltIfStopHangs(int code) {
        String warning = "shadowbox: warning: the framework did not stop within " + STOP_MILLIS / 1000
                + " s; exiting";
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(STOP_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            err.println(warning);
            err.flush();
            Runtime.getRuntime().halt(code);
        }, "shadowbox batch stop watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
