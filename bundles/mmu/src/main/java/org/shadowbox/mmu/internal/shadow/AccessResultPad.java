package org.shadowbox.mmu.internal.shadow;

/**
 * 64 bytes laid out before {@link AccessResult}'s fields (a superclass's fields come first),
 * which its vCPU's thread writes on every access: the vCPU's objects are allocated one vCPU
 * after the other, so without it the result of one vCPU shares a cache line with the previous
 * vCPU's objects, which another host thread reads on every access.
 *
 * <p>{@link #gap} takes the 4 bytes after the object header (12 to 16, with compressed class
 * pointers). Without it the JVM (15 and later) fills that hole with the subclass's first
 * {@code int}: {@code exception}, written on every access, then lay before the padding, in the
 * cache line of whatever object precedes this one. {@code PaddingLayoutTest} checks the offsets.
 */
abstract class AccessResultPad {
    @SuppressWarnings("unused")
    private int gap;
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6, p7;
}
