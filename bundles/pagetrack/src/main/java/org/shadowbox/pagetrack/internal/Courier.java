package org.shadowbox.pagetrack.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.shadowbox.vm.Vm;

/**
 * The thread isolated notifiers ({@code guard.isolate}) are called on, for one calling
 * {@link CallSlot} (a vCPU, or memslot changes): the vCPU hands each call over and waits for it,
 * at most until the {@link Watchdog} times it out. Then the vCPU abandons the courier (left to
 * finish or to spin forever, renamed after the bundle it is stuck in, counted in
 * {@link NotifierEntry#abandonedCouriers} while it runs), the slot gets a new courier on its next
 * isolated call, and the vCPU goes on to the next notifier. KVM has no such thing: a KVM notifier
 * runs in the vCPU's context and cannot be left behind; the JVM cannot take a thread back from
 * code that will not give it up, so only a thread of its own can be abandoned. One courier serves
 * every isolated notifier of its slot, so a vCPU costs at most one extra thread, which matters on
 * a machine of two cores.
 *
 * <p>Hand-off: the caller writes the call (plain fields) and publishes it by a CAS of
 * {@link #state} from {@link #IDLE} to {@link #CALL}; the courier answers with a volatile store of
 * {@link #DONE}. Each side spins on {@link Thread#onSpinWait()}, then parks: a waiting side must
 * not hold one of two cores. The spin adapts, as HotSpot's monitors do: each side doubles its
 * spin (up to {@value #MAX_SPIN_NANOS} ns) when the spin caught what it waited for and halves
 * it (down to {@value #MIN_SPIN_NANOS} ns) when it had to park. On free cores a busy vCPU and
 * its courier stay hot with no system call; on a loaded machine, where the other side is often
 * not even running, spinning would only take the core it needs, and both sides soon park at
 * once. Parking is a Dekker pair: a side sets its {@code parked} flag,
 * re-reads the state and parks; the other writes the state, then reads the flag and unparks.
 * An idle courier ends itself after {@value #IDLE_SECONDS} s (CAS from {@link #IDLE} to
 * {@link #RETIRED}, so it never ends under a caller); the slot then makes a new one. Nothing is
 * allocated per call, and between calls the courier holds no reference to any notifier (an
 * uninstalled bundle's classes must be collectable).
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

    /** Bounds of the adaptive spin (see the class comment). */
    static final long MIN_SPIN_NANOS = 1_000;
    static final long MAX_SPIN_NANOS = 50_000;
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

    final CallSlot slot;
    final Thread thread;

    private volatile int state = IDLE;
    private volatile boolean courierParked;
    private volatile boolean callerParked;
    private Thread caller;
    /** How long each side spins before it parks: doubled when the spin caught the event, halved when it parked. */
    private long callerSpin = MIN_SPIN_NANOS * 8;
    private long courierSpin = MIN_SPIN_NANOS * 8;

    // The call: written by the caller before the CAS to CALL, read by the courier after it.
    private NotifierEntry target;
    private int kind;
    private Vm vm;
    private int vcpuId;
    private long a;
    private long b;
    private int bytes;
    // The result: written by the courier before DONE, read by the caller after it.
    private Throwable thrown;

    /** A courier for calls from {@code slot} of VM {@code vmName}; not started. */
    Courier(CallSlot slot, String vmName) {
        this.slot = slot;
        this.thread = new Thread(this, "shadowbox-courier VM " + vmName + " " + slot.where);
        thread.setDaemon(true);
        thread.setContextClassLoader(null);
    }

    /** Hands {@code e}'s {@code track_write} over; false if this courier takes no call now (see {@link #busy()}). */
    boolean offerWrite(NotifierEntry e, Vm vm, int vcpuId, long gpa, long value, int bytes) {
        this.kind = KIND_WRITE;
        this.vcpuId = vcpuId;
        this.bytes = bytes;
        return offer(e, vm, gpa, value);
    }

    /** Hands {@code e}'s {@code track_remove_region} over; false if this courier takes no call now. */
    boolean offerRemoveRegion(NotifierEntry e, Vm vm, long gfn, long npages) {
        this.kind = KIND_REMOVE_REGION;
        return offer(e, vm, gfn, npages);
    }

    private boolean offer(NotifierEntry e, Vm vm, long a, long b) {
        this.target = e;
        this.vm = vm;
        this.a = a;
        this.b = b;
        this.caller = Thread.currentThread();
        if (!STATE.compareAndSet(this, IDLE, CALL)) {
            this.target = null;
            this.vm = null;
            return false;
        }
        if (courierParked) {
            LockSupport.unpark(thread);
        }
        return true;
    }

    /**
     * Waits for the call handed over: {@link #RETURNED}, {@link #THREW} ({@link #takeThrown()}
     * says what), or {@link #GAVE_UP} when the watchdog kicked {@code slot} first: the courier is
     * then abandoned (counted against {@code e}, renamed, and interrupted so that a blocked
     * callback may return) and the slot forgets it.
     */
    int await(NotifierEntry e) {
        long spinUntil = 0;
        boolean parked = false;
        for (int spins = 0;; spins++) {
            if (state == DONE) {
                callerSpin = parked ? Math.max(callerSpin >> 1, MIN_SPIN_NANOS) : Math.min(callerSpin << 1, MAX_SPIN_NANOS);
                return collect();
            }
            if (slot.kickDone) {
                if (STATE.compareAndSet(this, CALL, ABANDONED)) {
                    e.abandonedCouriers.incrementAndGet();
                    slot.dropCourier(this);
                    thread.setName(thread.getName() + " (abandoned in bundle " + e.bundle + ")");
                    thread.interrupt();
                    return GAVE_UP;
                }
                return collect(); // it finished just now
            }
            if ((spins & 15) == 0) {
                long now = System.nanoTime();
                if (spinUntil == 0) {
                    spinUntil = now + callerSpin;
                } else if (now - spinUntil > 0) {
                    parked = true;
                    callerParked = true; // volatile store, then re-read: see the class comment
                    if (state == CALL && !slot.kickDone) {
                        LockSupport.park(this); // the watchdog's interrupt also ends it
                    }
                    callerParked = false;
                    continue;
                }
            }
            Thread.onSpinWait();
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

    /** Ends an idle courier (its VM is destroyed, or page track closes). One running a call ends after it. */
    void retire() {
        if (STATE.compareAndSet(this, IDLE, RETIRED)) {
            LockSupport.unpark(thread);
        }
    }

    /** Running or returning a call: an offer failed for that reason, not because the courier is gone. */
    boolean busy() {
        int s = state;
        return s == CALL || s == DONE;
    }

    @Override
    public void run() {
        try {
            while (awaitCall()) {
                NotifierEntry e = target;
                Throwable t = null;
                try {
                    if (kind == KIND_WRITE) {
                        e.notifier.trackWrite(vm, vcpuId, a, b, bytes);
                    } else {
                        e.notifier.trackRemoveRegion(vm, a, b);
                    }
                } catch (Throwable x) { // handed to the caller, whose guard judges it
                    t = x;
                }
                target = null;
                vm = null;
                thrown = t; // published by the CAS to DONE
                if (!STATE.compareAndSet(this, CALL, DONE)) {
                    thrown = null; // ABANDONED: the caller has gone on
                    e.abandonedCouriers.decrementAndGet();
                    state = RETIRED;
                    return;
                }
                if (callerParked) {
                    LockSupport.unpark(caller);
                }
            }
        } finally {
            slot.dropCourier(this);
        }
    }

    /** Spins, then parks, until a call comes (true) or the courier is retired (false). */
    private boolean awaitCall() {
        long idleSince = System.nanoTime();
        long idle = TimeUnit.SECONDS.toNanos(IDLE_SECONDS);
        boolean parked = false;
        for (int spins = 0;; spins++) {
            int s = state;
            if (s == CALL) {
                courierSpin = parked ? Math.max(courierSpin >> 1, MIN_SPIN_NANOS)
                        : Math.min(courierSpin << 1, MAX_SPIN_NANOS);
                return true;
            }
            if (s == RETIRED) {
                return false;
            }
            if ((spins & 15) != 0 || System.nanoTime() - idleSince < courierSpin) {
                Thread.onSpinWait();
                continue;
            }
            parked = true;
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
