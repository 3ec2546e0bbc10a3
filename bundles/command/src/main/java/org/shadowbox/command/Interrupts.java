package org.shadowbox.command;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.Job;

/**
 * Ctrl-C for a command that can stop cleanly. Gogo's own Ctrl-C interrupts the job's threads
 * ({@code Future.cancel(true)}): the shell prints {@code java.lang.InterruptedException} and
 * returns at once while the command runs on, and a thread interrupted in the middle of a write
 * to the terminal's channel closes that channel, after which nothing the shell prints is seen.
 * A command that registers here is instead asked to stop: the console's Ctrl-C handler calls
 * {@link #interrupt} with the foreground job, no thread is interrupted, and the command
 * returns (or fails with its one line) on its own, as if it had been asked by a command.
 *
 * <pre>
 * try (Interrupts.Registration r = Interrupts.register(() -&gt; stopRequested = true)) {
 *     ... work that checks stopRequested ...
 * }
 * </pre>
 */
public final class Interrupts {
    /** The hooks of the jobs running a registered command. */
    private static final Map<Registration, Job> HOOKS = new ConcurrentHashMap<>();

    private Interrupts() {
    }

    /** One registered hook; {@link #close} removes it. */
    public static final class Registration implements AutoCloseable {
        private final Runnable onInterrupt;

        private Registration(Runnable onInterrupt) {
            this.onInterrupt = onInterrupt;
        }

        @Override
        public void close() {
            HOOKS.remove(this);
        }
    }

    /**
     * Registers {@code onInterrupt} for the shell job running on this thread. Outside a shell
     * job (a unit test, a background thread) nothing can press Ctrl-C for it: the registration
     * holds nothing. {@code onInterrupt} runs on the terminal's signal thread: it should set a
     * flag or count a latch down, and return.
     */
    public static Registration register(Runnable onInterrupt) {
        Registration r = new Registration(onInterrupt);
        Job job = Job.Utils.current();
        if (job != null) {
            HOOKS.put(r, job);
        }
        return r;
    }

    /**
     * Ctrl-C on {@code foreground}: runs the hooks registered by the commands of that job (or of
     * the jobs it started). False when none registered, and the caller should do what the shell
     * does by default.
     */
    public static boolean interrupt(Job foreground) {
        if (foreground == null) {
            return false;
        }
        List<Runnable> hooks = new ArrayList<>();
        HOOKS.forEach((r, job) -> {
            for (Job j = job; j != null; j = j.parent()) {
                if (j == foreground) {
                    hooks.add(r.onInterrupt);
                    return;
                }
            }
        });
        hooks.forEach(Runnable::run);
        return !hooks.isEmpty();
    }
}
