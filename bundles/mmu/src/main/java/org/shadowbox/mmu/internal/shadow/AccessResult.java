package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;

/**
 * What the guest saw of one access: the value read (or written), or the exception with its
 * error code, and whether the hypervisor emulated it. Reused by its owner: an access fills
 * it and allocates nothing.
 *
 * <p>Its fields ({@link AccessResultFields}) are written by the vCPU's thread on every access,
 * and each vCPU's result is allocated right after that vCPU's {@code GuestCpu}, just before the
 * next vCPU's: so 64 bytes of padding lie on either side of them (a superclass's fields are
 * laid out first, {@link AccessResultPad}; this class's own come last), as KVM keeps hot
 * per-vCPU data {@code ____cacheline_aligned}. Without it, two vCPU threads of one VM wrote and
 * read one cache line on every access: measured in docs/benchmarks.md, "What bounds 2-thread
 * scaling now".
 */
public final class AccessResult extends AccessResultFields {
    /** Padding after the fields. */
    @SuppressWarnings("unused")
    private long q0, q1, q2, q3, q4, q5, q6, q7;

    public boolean ok() {
        return exception == GuestWalk.OK;
    }

    public void reset() {
        exception = GuestWalk.OK;
        errorCode = 0;
        value = 0;
        gpa = 0;
        emulated = false;
    }

    /** The guest-visible part only (not {@link #emulated}): what must equal bare metal's. */
    public String guestView() {
        if (exception == GuestWalk.PAGE_FAULT) {
            return "#PF " + Pfec.describe(errorCode);
        }
        if (exception == GuestWalk.GENERAL_PROTECTION) {
            return "#GP";
        }
        return "ok value=0x" + Long.toHexString(value) + " gpa=0x" + Long.toHexString(gpa);
    }

    @Override
    public String toString() {
        return guestView() + (emulated ? " (emulated)" : "");
    }
}
