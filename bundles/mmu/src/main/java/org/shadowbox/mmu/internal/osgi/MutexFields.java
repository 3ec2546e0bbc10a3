package org.shadowbox.mmu.internal.osgi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** {@link VcpuMutex}'s state, between its padding before and after. */
abstract class MutexFields extends MutexPad {
    static final VarHandle OWNER;
    static final VarHandle WANTED;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(MutexFields.class, "owner", Thread.class);
            WANTED = MethodHandles.lookup().findVarHandle(MutexFields.class, "wanted", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The lock word: the holder, null when free. */
    @SuppressWarnings("unused") // through OWNER
    private Thread owner;
    /** Checkers waiting for it: while not 0 the vCPU's thread does not take it. */
    @SuppressWarnings("unused") // through WANTED
    private int wanted;
    /** Nested holds of the holder; read and written by the holder only. */
    int holds;
}
