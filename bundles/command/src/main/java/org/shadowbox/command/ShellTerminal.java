package org.shadowbox.command;

import java.io.PrintStream;

import org.apache.felix.service.command.Job;

/**
 * The interactive shell's terminal, for a command that redraws a line in place (a progress
 * bar). A command's {@code System.out} is Gogo's pipe: it reaches the terminal through a
 * channel whose {@code flush()} stops short of JLine's buffered terminal output, so text
 * without a line end stays unseen until the next line end; a {@code "\r"}-redrawn bar is never
 * seen at all. The stream returned here writes to the terminal itself, and its
 * {@code flush()} puts what was written on the screen.
 *
 * <p>The console sets it, as the session variable {@value #OUTPUT_VARIABLE}, in the
 * interactive shell on a real terminal only: batch runs ({@code -c}, scripts) and a shell
 * reading a pipe (JLine's dumb terminal) have none, and should draw nothing in place.
 */
public final class ShellTerminal {
    /** The session variable that holds the terminal's stream (a {@link PrintStream}). */
    public static final String OUTPUT_VARIABLE = ".shadowbox.terminal.output";

    private ShellTerminal() {
    }

    /**
     * The terminal of the shell job running on this thread, or null when there is none (no
     * shell job, a batch run, a dumb terminal). Write lines that end in {@code "\r"} or begin
     * with it, and flush.
     */
    public static PrintStream output() {
        Job job = Job.Utils.current();
        if (job == null || job.session() == null) {
            return null;
        }
        return job.session().get(OUTPUT_VARIABLE) instanceof PrintStream out ? out : null;
    }
}
