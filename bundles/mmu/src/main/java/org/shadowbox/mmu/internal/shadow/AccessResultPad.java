package org.shadowbox.mmu.internal.shadow;

/**
 * 64 bytes laid out before {@link AccessResult}'s fields (a superclass's fields come first),
 * which its vCPU's thread writes on every access: the vCPU's objects are allocated one vCPU
 * after the other, so without it the result of one vCPU shares a cache line with the previous
 * vCPU's objects, which another host thread reads on every access.
 */
abstract class AccessResultPad {
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6, p7;
}
