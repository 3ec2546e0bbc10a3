package org.shadowbox.guest.internal.scenario;

import java.util.SplittableRandom;

import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.ScenarioContext;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.vm.VmException;

/**
 * A built-in scenario: sets up files and the first processes on the guest bundle's own
 * {@link Kernel} (on the calling thread), then lets the scheduler run until every process has
 * exited, on as many host threads as the run was given, reporting progress as processes exited
 * out of those planned.
 */
public abstract class GuestScenario implements Scenario {
    /** Accesses between progress reports. */
    private static final long TICK = 1 << 16;

    @Override
    public final void run(ScenarioContext ctx) {
        if (!(ctx.kernel() instanceof Kernel k)) {
            throw new VmException("scenario '" + name() + "' runs only on the guest bundle's own kernel model");
        }
        SplittableRandom rng = new SplittableRandom(ctx.seed());
        long planned = start(k, ctx.scale(), rng);
        ctx.progress(0, planned);
        // Mid-run reports never say "done": with several vCPU threads the others may still be
        // finishing their last instructions, and a listener may take "done" as the end of the work.
        k.scheduler().run(accesses -> ctx.progress(Math.min(k.counters().exits(), planned - 1), planned), TICK);
        ctx.progress(planned, planned);
    }

    /**
     * Creates the scenario's files and spawns its first processes.
     *
     * @return the number of processes the run will have created when it is done
     */
    protected abstract long start(Kernel k, long scale, SplittableRandom rng);

    /** {@code n} as an int, or a one-line refusal when the scale makes it too large. */
    static int units(long n, String what) {
        if (n > 1_000_000) {
            throw new VmException("scale too large: " + n + " " + what + "; accepted up to 1000000");
        }
        return (int) n;
    }
}
