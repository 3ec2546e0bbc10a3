package org.shadowbox.run.internal;

import org.shadowbox.command.Interrupts;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.vm.VmException;

/**
 * A run in the shell's foreground ({@code run:scenario}, {@code run:compare}): Ctrl-C stops it as
 * {@code run:stop} stops a background run, at its next progress report, and the command fails
 * with one line instead of Gogo's {@code InterruptedException}. It draws the progress bar, if
 * there is one, and knows how far the run (or the comparison's runs together) got.
 */
final class ForegroundRun implements Simulator.ProgressSink, AutoCloseable {
    /** Thrown from a progress report once the run was asked to stop: unwinds the scenario. */
    static final class Stopped extends VmException {
        private static final long serialVersionUID = 1L;

        Stopped(String message) {
            super(message);
        }
    }

    final int id;
    private final ProgressBar bar;
    private final int runs;
    private final Interrupts.Registration ctrlC;
    private int index = -1;
    private volatile boolean stopRequested;
    private volatile long percent;

    /**
     * @param id   the run's id, from the same counter as the background runs'
     * @param bar  the progress bar, or null (batch modes)
     * @param runs how many runs this is (a comparison is 2), for the per cent done
     */
    ForegroundRun(int id, ProgressBar bar, int runs) {
        this.id = id;
        this.bar = bar;
        this.runs = runs;
        this.ctrlC = Interrupts.register(this::stop);
    }

    /** Asks the run to stop at its next progress report. */
    void stop() {
        stopRequested = true;
    }

    boolean stopRequested() {
        return stopRequested;
    }

    /** Per cent done, all runs together. */
    long percent() {
        return percent;
    }

    @Override
    public ScenarioRunner.Progress start(String label) {
        index++;
        ScenarioRunner.Progress drawn = bar == null ? null : bar.start(label);
        int run = index;
        return (done, total, accesses) -> {
            long p = total <= 0 ? 0 : Math.min(100, done * 100 / total);
            percent = (run * 100 + p) / runs;
            if (Thread.currentThread().isInterrupted()) {
                stopRequested = true; // Gogo's own Ctrl-C reached the thread: stop, and write nothing more
            }
            if (stopRequested) {
                throw new Stopped("run " + id + " stopped at " + percent + "%");
            }
            if (drawn != null) {
                drawn.progress(done, total, accesses);
            }
        };
    }

    @Override
    public void done() {
        // A thread Gogo interrupted must not write: the write would close the terminal's channel.
        if (bar != null && !Thread.currentThread().isInterrupted()) {
            bar.done();
        }
    }

    @Override
    public void close() {
        ctrlC.close();
        done();
    }
}
