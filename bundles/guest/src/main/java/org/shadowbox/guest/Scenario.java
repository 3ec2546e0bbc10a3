package org.shadowbox.guest;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A guest workload, registered as an OSGi service. Deterministic: the same {@code seed} and
 * {@code scale} give the same guest behaviour and the same {@link GuestCounts}, run to run,
 * whatever MMU the guest runs on.
 */
@ConsumerType
public interface Scenario {
    /** Short name used on the command line ({@code kernel-build}): lower case, digits and '-'. */
    String name();

    /** One line for {@code run:list}. */
    String description();

    /** The scale that runs in a few seconds on bare metal ({@code --scale} absent). */
    long defaultScale();

    /**
     * Refuses, before anything runs, a {@code scale} the workload cannot run at (too large,
     * below 1), in one line that says what is accepted. The runner and the shell call it
     * before they boot the guest or start a background run.
     *
     * @throws org.shadowbox.vm.VmException one line
     * @since 1.2
     */
    default void check(long scale) {
        if (scale < 1) {
            throw new org.shadowbox.vm.VmException("bad scale " + scale + ": accepted 1 or more");
        }
    }

    /**
     * The guest frames the workload's guest kernel allocates at {@code scale} on a VM of
     * {@code vcpus} vCPUs: at least (every run) and at most (an upper bound derived from the
     * workload's parameters, whatever the interleaving and the number of host threads). The
     * runner and the shell compare it, before the guest boots, with the VM's usable guest RAM
     * and with the room its memory budgets leave. By default nothing is known
     * ({@link GuestPages#UNKNOWN}): only the scale is checked, and a run that reaches a budget
     * fails there in the budget's one line, the VM intact.
     *
     * @param scale a scale {@link #check} accepted
     * @since 1.3
     */
    default GuestPages guestPages(long scale, int vcpus) {
        return GuestPages.UNKNOWN;
    }

    /**
     * Runs the workload on the booted guest of {@code ctx} and returns when it is done (every
     * process it started has exited and been reaped). The runner verifies the guest's memory
     * afterwards. Failures are thrown; the runner reports them in one line.
     */
    void run(ScenarioContext ctx);
}
