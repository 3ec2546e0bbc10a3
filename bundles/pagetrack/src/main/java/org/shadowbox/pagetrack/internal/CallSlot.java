package org.shadowbox.pagetrack.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Where one caller of foreign code stands, for the {@link Watchdog}: the target being called,
 * since which tick of the guard's clock, on which thread, in which SRCU read section. One per
 * vCPU of a VM (a vCPU is driven by one thread at a time) plus one for memslot changes
 * ({@code track_remove_region}).
 *
 * <p>Entering a call costs three plain stores and a release store (no fence on x86); leaving it a
 * volatile store and a volatile read, which together with the watchdog's volatile store of
 * {@link #kicked} and re-read of {@link #current} form a Dekker handshake: the watchdog never
 * interrupts or abandons a thread that has already left the call it timed out, and a caller that
 * left just as it was kicked waits for the watchdog to finish ({@link #kickDone}), clears the
 * interrupt, and takes back its abandonment ({@link Srcu#resume}) before it goes on. So an
 * abandonment is counted only while its thread is inside the call, and is taken back in the very
 * next {@link #leave()} of this slot, before the thread's {@link Srcu#readUnlock}: Srcu's
 * correctness argument rests on exactly that.
 *
 * <p>Nested dispatch on one thread (a callback writing guest memory) or two threads driving one
 * vCPU at once (which the API forbids) only make calls invisible to the watchdog: an exit stores
 * null, never an older target, so a stale target can never be timed out by mistake. A slot
 * carries at most one abandonment at a time ({@link #abandoned}); the watchdog adds none while
 * one is pending.
 */
final class CallSlot {
    private static final VarHandle CURRENT;
    private static final VarHandle COUNTS;

    static {
        try {
            CURRENT = MethodHandles.lookup().findVarHandle(CallSlot.class, "current", GuardedTarget.class);
            COUNTS = MethodHandles.lookup().findVarHandle(CallSlot.class, "counts", CallCounts.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** "vCPU 1" or "a memslot change": where a timeout report says the call came from. */
    final String where;
    /** The SRCU of the VM's notifier list, whose read sections this slot's calls run in. */
    final Srcu srcu;
    /**
     * The thread's SRCU reader this slot's caller used last ({@link Srcu#readLock}'s cache: a vCPU is
     * driven by one thread at a time, so it is nearly always the caller's). Plain: any thread may
     * find another's here and then looks its own up.
     */
    Srcu.Reader reader;
    /** The target being called; null between calls. */
    volatile GuardedTarget current;
    /** The guard's tick when the current call began; published by the release store of {@link #current}. */
    long since;
    /** The calling thread; published like {@link #since}. */
    Thread thread;
    /** The SRCU index of the read section the current call runs in; published like {@link #since}. */
    int srcuIdx;
    /**
     * The courier running the current call for the caller, or null for a direct call; published like
     * {@link #since}, cleared after an isolated call (it must not keep an uninstalled bundle's classes).
     */
    Courier courier;
    /** Set by the watchdog before it decides whether to interrupt {@link #thread}. */
    volatile boolean kicked;
    /** Set by the watchdog once it has interrupted and abandoned (or decided not to). */
    volatile boolean kickDone;
    /**
     * The watchdog abandoned the call ({@link Srcu#abandon} at {@link #abandonedIdx}); the caller
     * takes it back in {@link #leave()}. Volatile for tools; ordered for the caller by {@link #kickDone}.
     */
    volatile boolean abandoned;
    /** The index the watchdog abandoned; written before {@link #kickDone}. */
    int abandonedIdx;
    /** The courier of this slot's isolated calls, made on the first; null when there is none that takes calls. */
    private volatile Courier own;
    /** Watchdog only: {@link #since} of the last call it handled as an overrun. */
    long kickedFor = -1;
    /** Watchdog only: {@link #since} of the call it last saw here, and the tick it first saw it at. */
    long seenFor = -1;
    long seenAt;

    /**
     * Calls made from this slot into the notifiers of one array (by position), not yet added to
     * the entries' {@link GuardedTarget#calls}. Only the slot's caller changes them (a vCPU's
     * emulated writes run on one thread at a time: the platform's {@code EmulationGate}), so a
     * call is counted with a plain (opaque) increment of a counter no other vCPU touches, where
     * an atomic increment of the notifier's one counter cost every call a fence and a cache
     * line shared by all vCPUs (KVM's stats are per vCPU and summed on read the same way).
     * When the dispatch finds a new notifier array, these are added to their entries and
     * counting starts over for the new one. Two threads driving one vCPU at once (which the API
     * forbids) can lose or double some of these counts; nothing else depends on them.
     */
    private volatile CallCounts counts = CallCounts.NONE;

    /** An array of notifiers and this slot's calls into each (by position). */
    private record CallCounts(NotifierEntry[] entries, long[] calls) {
        static final CallCounts NONE = new CallCounts(new NotifierEntry[0], new long[0]);
    }

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    CallSlot(String where, Srcu srcu) {
        this.where = where;
        this.srcu = srcu;
    }

    /**
     * Counts a call into {@code a[i]} from this slot (its caller's thread only). Returns this
     * slot's calls into that notifier so far, counting this one (since the array changed).
     */
    long countCall(NotifierEntry[] a, int i) {
        CallCounts c = counts;
        if (c.entries != a) {
            c = recount(a);
        }
        long n = (long) LONGS.getOpaque(c.calls, i) + 1;
        LONGS.setOpaque(c.calls, i, n);
        return n;
    }

    /** A new array: the counts so far go to their entries, counting starts over (allocates: only when the array changed). */
    private CallCounts recount(NotifierEntry[] a) {
        CallCounts next = new CallCounts(a, new long[a.length]);
        while (true) {
            CallCounts old = counts;
            if (COUNTS.compareAndSet(this, old, next)) { // against dropCallsOf: each old array is added once
                addToEntries(old);
                return next;
            }
        }
    }

    private static void addToEntries(CallCounts old) {
        for (int i = 0; i < old.calls.length; i++) {
            long n = (long) LONGS.getOpaque(old.calls, i);
            if (n != 0) {
                old.entries[i].calls.addAndGet(n);
            }
        }
    }

    /** Adds this slot's counts to their entries (the VM is gone). */
    void flushCalls() {
        addToEntries((CallCounts) COUNTS.getAndSet(this, CallCounts.NONE));
    }

    /**
     * After {@code e}'s unregister waited for every call into it: if this slot still counts for an
     * array holding {@code e}, adds the counts to their entries and lets the array go, so that the
     * slot keeps no uninstalled bundle's notifier (and class loader) reachable. No call counts
     * into such an array any more: every reader that read one was waited for.
     */
    void dropCallsOf(NotifierEntry e) {
        CallCounts old = counts;
        for (NotifierEntry x : old.entries) {
            if (x == e) {
                if (COUNTS.compareAndSet(this, old, CallCounts.NONE)) {
                    addToEntries(old);
                }
                return;
            }
        }
    }

    /**
     * This slot's calls into {@code e} not yet in {@code e.calls} (any thread: a snapshot; exact
     * when no notifier array changes meanwhile).
     */
    long pendingCalls(NotifierEntry e) {
        CallCounts c = counts;
        long n = 0;
        for (int i = 0; i < c.entries.length; i++) {
            if (c.entries[i] == e) {
                n += (long) LONGS.getOpaque(c.calls, i);
            }
        }
        return n;
    }

    /** This slot's courier, made and started if it has none (or its last one was abandoned or retired). */
    Courier courier(String vmName) {
        Courier c = own;
        if (c != null) {
            return c;
        }
        synchronized (this) {
            c = own;
            if (c == null) {
                c = new Courier(this, vmName);
                own = c;
                c.thread.start();
            }
            return c;
        }
    }

    /** Forgets {@code c} (abandoned or ended) if it is this slot's courier. */
    synchronized void dropCourier(Courier c) {
        if (own == c) {
            own = null;
        }
    }

    /** Ends this slot's courier if it is idle (its VM is gone, or page track closes). */
    void retireCourier() {
        Courier c = own;
        if (c != null) {
            c.retire();
        }
    }

    /**
     * Begins a direct call into {@code target} at {@code tick}, inside read section {@code idx}.
     * No {@link Courier} in the signature on purpose: C2 does not inline a method whose signature
     * names a class not loaded yet ("unloaded signature classes"), and a VM without isolated
     * notifiers may never load {@code Courier}; then this call would stay a call in some JVMs and
     * be inlined in others, by the order of class loading (docs/benchmarks.md, issue 15's fault path
     * and dispatch). {@code DispatchShapeTest} checks the signature.
     */
    void enter(GuardedTarget target, long tick, int idx) {
        since = tick;
        thread = Thread.currentThread();
        srcuIdx = idx;
        courier = null;
        CURRENT.setRelease(this, target);
    }

    /** Begins a call into {@code target} at {@code tick}, inside read section {@code idx}, run by courier {@code via}. */
    void enterVia(GuardedTarget target, long tick, int idx, Courier via) {
        since = tick;
        thread = Thread.currentThread();
        srcuIdx = idx;
        courier = via;
        CURRENT.setRelease(this, target);
    }

    /**
     * Ends the call; if the watchdog kicked this slot, waits for it to finish, clears the
     * interrupt and takes back the abandonment. Returns true if the call was abandoned: the
     * caller must then not call anything from the notifier array it read (it resyncs).
     */
    boolean leave() {
        current = null; // volatile store: StoreLoad before the read of kicked
        if (!kicked) {
            return false;
        }
        while (!kickDone) {
            Thread.onSpinWait(); // the watchdog is between two statements
        }
        boolean wasAbandoned = abandoned;
        if (wasAbandoned) {
            abandoned = false;
            srcu.resume(abandonedIdx);
        }
        kickDone = false;
        kicked = false;
        Thread.interrupted(); // the interrupt was ours: the caller goes on without it
        return wasAbandoned;
    }
}
