package org.shadowbox.run.internal;

import java.io.PrintStream;
import java.util.function.BooleanSupplier;
import java.util.Locale;

import org.shadowbox.guest.ScenarioRunner;

/**
 * A one-line progress bar with the simulation's rate (guest accesses per host second), redrawn
 * in place at most every quarter second and erased when the run is over. Only for the
 * interactive shell: batch runs (scripts, {@code -c}) get none, see {@link #quiet}, and a run in
 * a background job draws none while it stays in the background. It is drawn on the terminal
 * itself ({@link org.shadowbox.command.ShellTerminal}), never on a dumb one, so it may use the
 * terminal's erase-line sequence.
 */
final class ProgressBar implements Simulator.ProgressSink, ScenarioRunner.Progress {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 250_000_000L;
    private final PrintStream out;
    private final BooleanSupplier background;
    private String label = "";
    private long started;
    private long lastDraw;
    private int drawn;

    /**
     * @param background true while the command runs as a background job (Gogo's {@code cmd &},
     *                   or {@code bg} after Ctrl-Z): the bar is not drawn then, so that it never
     *                   writes over the prompt; it is drawn again after {@code fg}
     */
    ProgressBar(PrintStream out, BooleanSupplier background) {
        this.out = out;
        this.background = background;
    }

    /**
     * True in the console's batch modes: {@code shadowbox.batch.command} or
     * {@code shadowbox.batch.file} is set, or Gogo runs with {@code --nointeractive}.
     *
     * @param property reads a framework property (null when unset)
     */
    static boolean quiet(java.util.function.Function<String, String> property) {
        String args = property.apply("gosh.args");
        return property.apply("shadowbox.batch.command") != null || property.apply("shadowbox.batch.file") != null
                || (args != null && args.contains("--nointeractive"));
    }

    @Override
    public ScenarioRunner.Progress start(String runLabel) {
        label = runLabel;
        started = System.nanoTime();
        lastDraw = 0;
        return this;
    }

    @Override
    public void progress(long done, long total, long accesses) {
        long now = System.nanoTime();
        if (now - lastDraw < REDRAW_NANOS && done < total) {
            return;
        }
        lastDraw = now;
        if (background.getAsBoolean()) {
            done();
            return;
        }
        double f = total <= 0 ? 0 : Math.min(1, (double) done / total);
        int filled = (int) Math.round(f * WIDTH);
        double rate = accesses * 1e9 / Math.max(1, now - started);
        String line = String.format(Locale.ROOT, "%-10s [%s%s] %3d%%  %.1f M accesses/s", label, "#".repeat(filled),
                "-".repeat(WIDTH - filled), Math.round(f * 100), rate / 1e6);
        out.print("\r" + line + " ".repeat(Math.max(0, drawn - line.length())));
        out.flush();
        drawn = line.length();
    }

    /** Back to the line's start, and erase to its end: the bar and whatever the terminal echoed after it (a ^C). */
    static final String ERASE = "\r\033[K";

    @Override
    public void done() {
        if (drawn > 0) {
            out.print(ERASE);
            out.flush();
            drawn = 0;
        }
    }
}
