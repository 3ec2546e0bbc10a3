package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;

/**
 * What the guest saw of one access: the value read (or written), or the exception with its
 * error code, and whether the hypervisor emulated it. Reused by its owner: an access fills
 * it and allocates nothing.
 */
public final class AccessResult {
    /** {@link GuestWalk#OK}, {@link GuestWalk#PAGE_FAULT} or {@link GuestWalk#GENERAL_PROTECTION}. */
    public int exception;
    /** The #PF error code (Pfec bits). */
    public int errorCode;
    /** The value read, or the value written, in the low {@code size} bytes. */
    public long value;
    /** Guest-physical address of the first byte (when there was no exception). */
    public long gpa;
    /** True if the access was emulated (page-track fast path, write protection or MMIO). */
    public boolean emulated;

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
