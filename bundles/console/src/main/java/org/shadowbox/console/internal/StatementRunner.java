package org.shadowbox.console.internal;

import java.io.PrintStream;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Job;
import org.apache.felix.service.command.Job.Status;
import org.apache.felix.service.command.JobListener;
import org.apache.felix.service.command.Result;
import org.shadowbox.console.internal.Statements.Statement;

/**
 * Runs statements one by one in a Gogo session and prints each result the way the
 * interactive Gogo shell does: {@code session.format(result, Converter.INSPECT)} on stdout,
 * when the result is not null and {@code .Gogo.format} is not false. Stops at the first
 * statement that fails, with one line on stderr:
 * {@code shadowbox: [FILE:LINE: ]STATEMENT: MESSAGE}, and the stack trace only when asked.
 */
final class StatementRunner {

    /** Longest statement text quoted in an error line. */
    static final int QUOTE_LIMIT = 60;

    private final PrintStream out;
    private final PrintStream err;
    private final boolean trace;
    /** The script's file name for error lines, or null for a -c program. */
    private final String fileLabel;

    StatementRunner(PrintStream out, PrintStream err, boolean trace, String fileLabel) {
        this.out = out;
        this.err = err;
        this.trace = trace;
        this.fileLabel = fileLabel;
    }

    /** Runs {@code statements} in order; 0 if all succeeded, 1 at the first failure. */
    int runAll(CommandSession session, List<Statement> statements) {
        for (Statement statement : statements) {
            if (!execute(session, statement)) {
                return 1;
            }
        }
        return 0;
    }

    /**
     * Runs one statement and prints its result; false if it failed. A statement fails when
     * it throws, or when its last foreground job ended with a non-zero status: Gogo's
     * built-ins ({@code sleep}, {@code grep}, {@code cat}...) report errors that way, after
     * printing their own message on stderr, and {@code &&} and {@code ||} test that status.
     */
    boolean execute(CommandSession session, Statement statement) {
        JobWatch jobs = new JobWatch();
        session.setJobListener(jobs);
        try {
            Object result = session.execute(statement.text());
            session.put("_", result);
            if (result != null && !Boolean.FALSE.equals(session.get(".Gogo.format"))) {
                out.println(session.format(result, Converter.INSPECT));
            }
            out.flush();
            int status = jobs.lastStatus();
            if (status != 0) {
                err.println("shadowbox: " + where(statement.line()) + quote(statement.text())
                        + ": failed with status " + status);
                return false;
            }
            return true;
        } catch (Exception e) {
            out.flush();
            err.println("shadowbox: " + where(statement.line()) + quote(statement.text()) + ": " + message(e));
            if (trace) {
                e.printStackTrace(err);
            }
            return false;
        } finally {
            session.setJobListener(null);
            err.flush();
        }
    }

    /** {@code FILE:LINE: } for a script, nothing for a -c program. */
    String where(int line) {
        return fileLabel == null ? "" : fileLabel + ":" + line + ": ";
    }

    /** The statement on one line, shortened to {@link #QUOTE_LIMIT} characters. */
    static String quote(String statement) {
        String flat = statement.replaceAll("\\s+", " ").strip();
        return flat.length() <= QUOTE_LIMIT ? flat : flat.substring(0, QUOTE_LIMIT - 3) + "...";
    }

    /** The exception's message on one line, or its class name when it has none. */
    static String message(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getName();
        }
        return message.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /**
     * Remembers the status of the last top-level job that ran in the foreground and ended.
     * Gogo calls the listener before the waiting {@code execute} returns.
     */
    static final class JobWatch implements JobListener {
        private volatile int lastStatus;

        @Override
        public void jobChanged(Job job, Status previous, Status current) {
            if (current == Status.Done && previous == Status.Foreground && job.parent() == null) {
                Result result = job.result();
                lastStatus = result == null || result.exception() != null ? 0 : result.error();
            }
        }

        int lastStatus() {
            return lastStatus;
        }
    }
}
