package org.shadowbox.pagetrack.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.shadowbox.vm.Vm;

/**
 * The thread an isolated notifier ({@code guard.isolate}) is called on, for one calling
 * {@link CallSlot} (a vCPU, or memslot changes): the vCPU hands the call over and waits for it,
 * at most until the {@link Watchdog} times it out. Then the vCPU abandons the courier (left to
 * finish or to spin forever; counted in {@link NotifierEntry#abandonedCouriers} while it runs)
 * and goes on to the next notifier. KVM has no such thing: a KVM notifier runs in the vCPU's
 * context and cannot be left behind; the JVM cannot take a thread back from code that will not
 * give it up, so only a thread of its own can be abandoned.
 *
 * <p>Hand-off: the caller writes the arguments (plain fields) and publishes them by a CAS of
 * {@link #state} from {@link #IDLE} to {@link #CALL}; the courier answers with a volatile store
 * of {@link #DONE}. Each side spins {@value #SPINS} times on {@link Thread#onSpinWait()} (a busy
 * tracker keeps both threads hot, with no system call), then parks: on a 2-core machine a
 * waiting side must not hold a core. Parking is a Dekker pair: a side sets its {@code parked}
 * flag, re-reads the state and parks; the other writes the state, then reads the flag and
 * unparks. An idle courier ends itself after {@value #IDLE_SECONDS} s (CAS from {@link #IDLE}
 * to {@link #RETIRED}, so it never ends under a caller); a caller that finds it retired makes
 * a new one. Nothing is allocated per call.
 */
final class Courier implements Runnable {
    static final int IDLE = 0;
    static final int CALL = 1;
    static final int DONE = 2;
    /** The caller gave up waiting: the courier ends after the call, if it ever returns. */
    static final int ABANDONED = 3;
    static final int RETIRED = 4;

    /** Outcomes of {@link #await}. */
    static final int RETURNED = 0;
    static final int THREW = 1;
    static final int GAVE_UP = 2;

    static final int SPINS = 2_000;
    static final long IDLE_SECONDS = 30;

    private static final int KIND_WRITE = 0;
    private static final int KIND_REMOVE_REGION = 1;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Courier.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final NotifierEntry entry;
    final CallSlot slot;
    final Thread thread;

    private volatile int state = IDLE;
    private volatile boolean courierParked;
    private volatile boolean callerParked;
    private Thread caller;

    // The call: written by the caller before the CAS to CALL, read by the courier after it.
    private int kind;
    private Vm vm;
    private int vcpuId;
    private long a;
    private long b;
    private int bytes;
    // The result: written by the courier before DONE, read by the caller after it.
    private Throwable thrown;

    /** A courier for calls from {@code slot} of VM {@code vmName} into {@code entry}; not started. */
    Courier(NotifierEntry entry, CallSlot slot, String vmName) {
        this.entry = entry;
        this.slot = slot;
        this.thread = new Thread(this, "shadowbox-courier VM " + vmName + " " + slot.where + " bundle " + entry.bundle);
        thread.setDaemon(true);
        thread.setContextClassLoader(null);
    }

    /** Hands a {@code track_write} over; false if this courier takes no more calls (get another). */
    boolean offerWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        this.kind = KIND_WRITE;
        this.vm = vm;
        this.vcpuId = vcpuId;
        this.a = gpa;
        this.b = value;
        this.bytes = bytes;
        return offer();
    }

    /** Hands a {@code track_remove_region} over; false if this courier takes no more calls. */
    boolean offerRemoveRegion(Vm vm, long gfn, long npages) {
        this.kind = KIND_REMOVE_REGION;
        this.vm = vm;
        this.a = gfn;
        this.b = npages;
        return offer();
    }

    private boolean offer() {
        caller = Thread.currentThread();
        if (!STATE.compareAndSet(this, IDLE, CALL)) {
            vm = null;
            return false;
        }
        if (courierParked) {
            LockSupport.unpark(thread);
        }
        return true;
    }

    /**
     * Waits for the call handed over: {@link #RETURNED}, {@link #THREW} ({@link #takeThrown()}
     * says what), or {@link #GAVE_UP} when the watchdog kicked {@code slot} first, in which case
     * the courier is abandoned (and interrupted, so that a blocked callback may return).
     */
    int await(CallSlot slot) {
        int spins = 0;
        for (;;) {
            if (state == DONE) {
                return collect();
            }
            if (slot.kickDone) {
                if (STATE.compareAndSet(this, CALL, ABANDONED)) {
                    entry.abandonedCouriers.incrementAndGet();
                    entry.couriers.remove(this.slot, this);
                    thread.interrupt();
                    return GAVE_UP;
                }
                return collect(); // it finished just now
            }
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            callerParked = true; // volatile store, then re-read: see the class comment
            if (state == CALL && !slot.kickDone) {
                LockSupport.park(this); // the watchdog's interrupt also ends it
            }
            callerParked = false;
        }
    }

    private int collect() {
        int outcome = thrown == null ? RETURNED : THREW;
        state = IDLE; // the courier writes thrown again only for the next offer
        return outcome;
    }

    /** What the last call threw (after {@link #THREW}); the courier lets go of it. */
    Throwable takeThrown() {
        Throwable t = thrown;
        thrown = null;
        return t;
    }

    /** Ends an idle courier (its notifier was unregistered, or its VM destroyed). One running a call ends after it. */
    void retire() {
        if (STATE.compareAndSet(this, IDLE, RETIRED)) {
            LockSupport.unpark(thread);
        }
    }

    /** Whether the thread still runs (tests, tools). */
    boolean alive() {
        return thread.isAlive();
    }

    int state() {
        return state;
    }

    @Override
    public void run() {
        try {
            while (awaitCall()) {
                Throwable t = null;
                try {
                    if (kind == KIND_WRITE) {
                        entry.notifier.trackWrite(vm, vcpuId, a, b, bytes);
                    } else {
                        entry.notifier.trackRemoveRegion(vm, a, b);
                    }
                } catch (Throwable x) { // handed to the caller, whose guard judges it
                    t = x;
                }
                vm = null;
                thrown = t; // published by the CAS to DONE
                if (!STATE.compareAndSet(this, CALL, DONE)) {
                    thrown = null;
                    entry.abandonedCouriers.decrementAndGet(); // ABANDONED: the caller has gone on
                    state = RETIRED;
                    return;
                }
                if (callerParked) {
                    LockSupport.unpark(caller);
                }
            }
        } finally {
            entry.couriers.remove(slot, this);
        }
    }

    /** Spins, then parks, until a call comes (true) or the courier is retired (false). */
    private boolean awaitCall() {
        int spins = 0;
        long idleSince = System.nanoTime();
        long idle = TimeUnit.SECONDS.toNanos(IDLE_SECONDS);
        for (;;) {
            int s = state;
            if (s == CALL) {
                return true;
            }
            if (s == RETIRED) {
                return false;
            }
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            courierParked = true;
            if (state == s) {
                LockSupport.parkNanos(this, idle);
            }
            courierParked = false;
            Thread.interrupted(); // a late interrupt meant for an earlier call
            if (state == IDLE && System.nanoTime() - idleSince >= idle && STATE.compareAndSet(this, IDLE, RETIRED)) {
                return false;
            }
        }
    }
}
