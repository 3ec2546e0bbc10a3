package org.shadowbox.mmu.internal.osgi;

/** 64 bytes before {@link VcpuMutex}'s fields; the int fills the gap after the object header. */
abstract class MutexPad {
    @SuppressWarnings("unused")
    private int gap;
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6, p7;
}
