package org.shadowbox.pagetrack.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Where one caller of foreign code stands, for the {@link Watchdog}: the target being called,
 * since which tick of the guard's clock, on which thread. One per vCPU of a VM (a vCPU is driven
 * by one thread at a time) plus one for memslot changes ({@code track_remove_region}).
 *
 * <p>Entering a call costs two plain stores and a release store (no fence on x86); leaving it a
 * volatile store and a volatile read, which together with the watchdog's volatile store of
 * {@link #kicked} and re-read of {@link #current} form a Dekker handshake: the watchdog never
 * interrupts a thread that has already left the call it timed out, and a caller that left
 * just as it was interrupted clears the interrupt before it goes on.
 *
 * <p>Nested dispatch on one thread (a callback writing guest memory) or two threads driving one
 * vCPU at once (which the API forbids) only make calls invisible to the watchdog: an exit stores
 * null, never an older target, so a stale target can never be timed out by mistake.
 */
final class CallSlot {
    private static final VarHandle CURRENT;

    static {
        try {
            CURRENT = MethodHandles.lookup().findVarHandle(CallSlot.class, "current", GuardedTarget.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** "vCPU 1" or "slot change": where a timeout report says the call came from. */
    final String where;
    /** The target being called; null between calls. */
    volatile GuardedTarget current;
    /** The guard's tick when the current call began; published by the release store of {@link #current}. */
    long since;
    /** The calling thread; published like {@link #since}. */
    Thread thread;
    /** Set by the watchdog before it decides whether to interrupt {@link #thread}. */
    volatile boolean kicked;
    /** Set by the watchdog once it has interrupted (or decided not to). */
    volatile boolean kickDone;
    /** Watchdog only: {@link #since} of the last call it handled as an overrun. */
    long kickedFor = -1;

    CallSlot(String where) {
        this.where = where;
    }

    /** Begins a call into {@code target} at {@code tick}. */
    void enter(GuardedTarget target, long tick) {
        since = tick;
        thread = Thread.currentThread();
        CURRENT.setRelease(this, target);
    }

    /** Ends the call; if the watchdog kicked this slot, waits for it to finish and clears the interrupt. */
    void leave() {
        current = null; // volatile store: StoreLoad before the read of kicked
        if (kicked) {
            while (!kickDone) {
                Thread.onSpinWait(); // the watchdog is between two statements
            }
            kickDone = false;
            kicked = false;
            Thread.interrupted(); // the interrupt was ours: the caller goes on without it
        }
    }
}
