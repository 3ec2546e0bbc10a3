package org.shadowbox.mmu.internal.shadow;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * 64 bytes of padding laid out before {@link VcpuRequestBits#bits} (superclass fields come
 * first). {@link #gap} takes the 4 bytes after the object header, which the JVM (15 and later)
 * would otherwise fill with the subclass's first {@code int}: {@code bits} then lay at offset 12,
 * before the padding and 68 bytes from {@code mode}, in the cache line of whatever object
 * precedes this one. {@code PaddingLayoutTest} checks the offsets.
 */
abstract class VcpuRequestPad {
    int gap;
    long p0, p1, p2, p3, p4, p5, p6, p7;
}

/** The word of {@link VcpuRequests}, apart from its neighbours: padding before (the superclass) and after (the subclass). */
abstract class VcpuRequestBits extends VcpuRequestPad {
    static final VarHandle BITS;
    static final VarHandle MODE;

    static {
        try {
            BITS = MethodHandles.lookup().findVarHandle(VcpuRequestBits.class, "bits", int.class);
            MODE = MethodHandles.lookup().findVarHandle(VcpuRequestBits.class, "mode", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@code vcpu->requests}. */
    volatile int bits;

    /**
     * {@code vcpu->mode} ({@link VcpuMode}): written by the vCPU's own thread, read by remote
     * flushes.
     */
    volatile int mode;
}
