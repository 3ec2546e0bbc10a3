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

    /**
     * The number of the scenario's units (children, compilation units, rounds) that
     * {@code scale} makes, or a one-line refusal: {@link #check} asks it before anything runs.
     */
    protected abstract int size(long scale);

    @Override
    public final void check(long scale) {
        if (scale < 1) {
            throw new VmException("bad scale " + scale + ": accepted 1 or more");
        }
        size(scale);
    }

    /** {@code perScale * scale} units as an int, or a one-line refusal past a million (no overflow). */
    static int units(long perScale, long scale, String what) {
        long max = 1_000_000 / perScale;
        if (scale > max) {
            throw new VmException("scale too large: " + scale + (perScale == 1 ? "" : " x " + perScale) + " " + what
                    + "; accepted up to " + max + " (1000000 " + what + ")");
        }
        return (int) (perScale * scale);
    }
}
