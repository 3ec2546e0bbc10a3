package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.shadow.AccessResult;

/**
 * What the shadow and the TDP {@link GuestCpu} adapters share: the owner whose liveness every
 * call checks, and the one reused {@link AccessResult} the outcome of the last access lives
 * in, so an access allocates nothing. The accesses themselves stay in the subclasses, each
 * calling its own vCPU type directly.
 */
abstract class ResultCpu implements GuestCpu {
    final VmMmu owner;
    final AccessResult last = new AccessResult();

    ResultCpu(VmMmu owner) {
        this.owner = owner;
    }

    @Override
    public final long value() {
        return last.value;
    }

    /** {@link GuestCpu}'s exception numbers are the vector numbers the walker uses (0, 13, 14). */
    @Override
    public final int exception() {
        return last.exception;
    }

    @Override
    public final int errorCode() {
        return last.errorCode;
    }

    @Override
    public final long gpa() {
        return last.gpa;
    }

    @Override
    public final boolean emulated() {
        return last.emulated;
    }
}
