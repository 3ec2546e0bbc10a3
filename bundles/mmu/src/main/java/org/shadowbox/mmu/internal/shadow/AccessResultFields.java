package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;

/**
 * {@link AccessResult}'s fields, between {@link AccessResultPad} and the padding of {@link
 * AccessResult} itself: the JVM lays out a superclass's fields before a subclass's, and within
 * one class sorts them by size, so only a class on each side keeps 64 bytes before and after
 * the fields that the vCPU's thread writes on every access.
 */
abstract class AccessResultFields extends AccessResultPad {
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
}
