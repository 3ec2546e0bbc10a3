package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;

import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * The one guard (Eclipse SafeRunner style) through which page track calls foreign code:
 * notifiers and the MMU's write-protect hook. It catches {@link Exception},
 * {@link LinkageError} and {@link AssertionError}, never rethrows, logs one line blaming
 * the bundle by symbolic name, counts calls and failures, keeps the last error, and after
 * {@link #maxFailures()} failures disables a notifier: it stays attached and listed, but
 * is no longer called. The caller goes on with the next notifier; the VM keeps running.
 *
 * <p>Notifier calls are also watched for time (Felix EventAdmin's timeout): each call is
 * entered in its caller's {@link CallSlot}, and the {@link Watchdog} disables a notifier whose
 * call runs {@code guard.timeoutMillis} or longer, abandons the call and interrupts the caller.
 * An isolated notifier ({@code guard.isolate}) is called on a {@link Courier} thread instead of
 * the vCPU's, which waits for it and, on a timeout, leaves it behind and goes on.
 *
 * <p>The success path allocates nothing and takes no lock: two volatile reads (disabled, isolated), an
 * plain increment of the calling vCPU's own count (calls, see {@link CallSlot}), a volatile read of the clock, two plain stores and a release
 * store to enter the slot, the call, a volatile store and two volatile reads to leave it.
 * One call in {@link GuardRecord#SAMPLE_EVERY} is also timed with {@code System.nanoTime()}.
 */
final class NotifierGuard {
    /** Default of {@code guard.maxFailures}. */
    static final int DEFAULT_MAX_FAILURES = 10;
    /** Default of {@code guard.timeoutMillis}: Felix EventAdmin's handler timeout. */
    static final long DEFAULT_TIMEOUT_MILLIS = 5000;

    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");
    private static final long SAMPLE_MASK = GuardRecord.SAMPLE_EVERY - 1;

    private volatile int maxFailures = DEFAULT_MAX_FAILURES;
    private volatile long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;
    /** The guard's clock, in {@link Watchdog#TICK_MILLIS} ms ticks; advanced by the watchdog. */
    volatile long tick;

    long timeoutMillis() {
        return timeoutMillis;
    }

    /** The timeout in whole ticks, rounded up; 0 when calls are never timed out. */
    long timeoutTicks() {
        long t = timeoutMillis;
        return t == 0 ? 0 : (t + Watchdog.TICK_MILLIS - 1) / Watchdog.TICK_MILLIS;
    }

    /** Sets {@code guard.timeoutMillis}; refused (logged, old value kept) below 0. 0 turns timeouts off. */
    void setTimeoutMillis(long ms) {
        if (ms < 0) {
            LOG.log(Level.WARNING, "ignoring guard.timeoutMillis=" + ms + ": accepted 0 (never) or more; keeping "
                    + timeoutMillis);
            return;
        }
        timeoutMillis = ms;
    }

    int maxFailures() {
        return maxFailures;
    }

    /** Sets the threshold; refused (logged, old value kept) below 1. */
    void setMaxFailures(int n) {
        if (n < 1) {
            LOG.log(Level.WARNING, "ignoring guard.maxFailures=" + n + ": accepted 1 or more; keeping " + maxFailures);
            return;
        }
        maxFailures = n;
    }

    /**
     * {@code kvm_page_track_write}'s read section: {@code srcu_read_lock}, every notifier of
     * {@code st} (newest first) called through the guard, {@code srcu_read_unlock}. A call is
     * made on the vCPU's thread, entered in the vCPU's {@link CallSlot}, or for an isolated
     * notifier handed to its {@link Courier} and waited for ({@link #awaitCourier}). A call the
     * watchdog abandoned ends the section: a new one is begun and the fresh notifier array is
     * resumed after the notifier just called (see {@link Srcu}).
     *
     * <p>One method on purpose (docs/benchmarks.md, "The dispatch's call boundary"): over
     * {@code FreqInlineSize} (325 bytes of bytecode), so C2 never inlines it into the emulated
     * write above it, whatever the order of compilation, and the code compiled for the platform's
     * side of the write never holds the dispatch (before, it did in some JVMs and not in others);
     * below it, the guard's steps are inlined into it. Split it and the boundary moves from JVM to
     * JVM again ({@code DispatchShapeTest}).
     */
    void trackWriteAll(VmState st, Vm vm, int vcpuId, long gpa, long value, int bytes) {
        Srcu srcu = st.srcu;
        CallSlot slot = st.slot(vcpuId);
        int idx = srcu.readLock(slot);
        try {
            NotifierEntry[] a = st.notifiers; // after readLock: see Srcu
            for (int i = 0; i < a.length; i++) {
                NotifierEntry e = a[i];
                if (e.disabled) {
                    continue;
                }
                long n = slot.countCall(a, i); // per vCPU, no atomic: see CallSlot
                long start = tick;
                boolean sample = (n & SAMPLE_MASK) == 1; // the 1st, 65th, ... of this vCPU's: a notifier called once is timed once
                long t0 = sample ? System.nanoTime() : 0;
                boolean abandoned = false;
                Courier c = null;
                if (e.isolated) {
                    // Handed to the notifier's courier, unless this thread is that courier (nested
                    // dispatch: handing it to itself would never return) or the courier is busy with
                    // a call from another thread driving the same vCPU (which the API forbids).
                    c = slot.courier(vm.name());
                    while (c != null && c.thread != Thread.currentThread()) {
                        if (c.offerWrite(e, vm, vcpuId, gpa, value, bytes)) {
                            break;
                        }
                        if (c.busy()) {
                            c = null;
                            break;
                        }
                        slot.dropCourier(c); // it had retired (idle): a new one
                        c = slot.courier(vm.name());
                    }
                    if (c != null && c.thread == Thread.currentThread()) {
                        c = null;
                    }
                }
                if (c != null) {
                    abandoned = awaitCourier(e, c, slot, idx, "trackWrite", vm, start, sample, t0);
                } else {
                    slot.enter(e, start, idx);
                    try {
                        e.notifier.trackWrite(vm, vcpuId, gpa, value, bytes);
                    } catch (Exception | LinkageError | AssertionError t) {
                        failed(e, "trackWrite", vm, t);
                    } finally {
                        abandoned = slot.leave();
                        account(e, start, sample, t0);
                    }
                }
                if (abandoned) {
                    // A writer may have stopped waiting for us. A new section, a fresh array.
                    long order = e.order;
                    srcu.readUnlock(idx);
                    idx = srcu.readLock(slot);
                    a = st.notifiers;
                    i = after(a, order) - 1;
                }
            }
        } finally {
            srcu.readUnlock(idx);
        }
    }

    /** The index of the first notifier of {@code a} registered before the one of {@code order} (called after it). */
    static int after(NotifierEntry[] a, long order) {
        int i = 0;
        while (i < a.length && a[i].order >= order) {
            i++;
        }
        return i;
    }

    /**
     * Hands {@code track_remove_region} to the notifier's courier for {@code slot}, or returns null
     * when the call must be made directly: a callback of this courier (nested dispatch; handing it
     * to itself would never return), or the courier busy with a call from another thread.
     */
    private static Courier handOffRemoveRegion(NotifierEntry e, CallSlot slot, Vm vm, long gfn, long npages) {
        Courier c = slot.courier(vm.name());
        while (c.thread != Thread.currentThread()) {
            if (c.offerRemoveRegion(e, vm, gfn, npages)) {
                return c;
            }
            if (c.busy()) {
                return null;
            }
            slot.dropCourier(c);
            c = slot.courier(vm.name());
        }
        return null;
    }

    /** {@code track_remove_region} through the guard, entered in the VM's slot-change {@code slot}; as in {@link #trackWriteAll}. */
    boolean trackRemoveRegion(NotifierEntry e, CallSlot slot, int idx, Vm vm, long gfn, long npages) {
        if (e.disabled) {
            return false;
        }
        e.calls.incrementAndGet();
        long start = tick;
        long t0 = System.nanoTime(); // rare: always timed
        if (e.isolated) {
            Courier c = handOffRemoveRegion(e, slot, vm, gfn, npages);
            if (c != null) {
                return awaitCourier(e, c, slot, idx, "trackRemoveRegion", vm, start, true, t0);
            }
        }
        slot.enter(e, start, idx);
        boolean abandoned = false;
        try {
            e.notifier.trackRemoveRegion(vm, gfn, npages);
        } catch (Exception | LinkageError | AssertionError t) {
            failed(e, "trackRemoveRegion", vm, t);
        } finally {
            abandoned = slot.leave();
            account(e, start, true, t0);
        }
        return abandoned;
    }

    /**
     * The vCPU's side of an isolated call: entered in its slot as a direct call is (so the
     * watchdog times it the same way), waits for the courier, judges what it threw as the guard
     * does a direct call's; an {@link Error} other than the guarded ones is rethrown here, as a
     * direct call would let it through.
     */
    private boolean awaitCourier(NotifierEntry e, Courier c, CallSlot slot, int idx, String call, Vm vm, long start,
            boolean sample, long t0) {
        slot.enterVia(e, start, idx, c);
        boolean abandoned = false;
        try {
            if (c.await(e) == Courier.THREW) {
                Throwable t = c.takeThrown();
                if (t instanceof Error err && !(t instanceof LinkageError) && !(t instanceof AssertionError)) {
                    throw err;
                }
                failed(e, call, vm, t);
            }
        } finally {
            abandoned = slot.leave();
            slot.courier = null;
            account(e, start, sample, t0);
        }
        return abandoned;
    }

    /** Time accounting after a call: the nanoTime sample if {@code sample}, and slow calls by the clock. */
    private void account(GuardedTarget e, long start, boolean sample, long t0) {
        if (sample) {
            e.sampledNanos.add(System.nanoTime() - t0);
            e.sampledCalls.increment();
        }
        long ticks = tick - start;
        if (ticks >= 2) {
            e.slowCalls.increment();
            e.slowTicks.add(ticks);
        }
    }

    /**
     * {@code kvm_mmu_slot_gfn_write_protect} through the guard. A hook that fails is
     * assumed to have changed something, so that the caller still flushes.
     */
    boolean slotGfnWriteProtect(HookEntry h, Vm vm, Memslot slot, long gfn) {
        h.calls.incrementAndGet();
        try {
            return h.hook.slotGfnWriteProtect(vm, slot, gfn);
        } catch (Exception | LinkageError | AssertionError t) {
            failed(h, "slotGfnWriteProtect", vm, t);
            return true;
        }
    }

    /** {@code kvm_flush_remote_tlbs} through the guard. */
    void flushRemoteTlbs(HookEntry h, Vm vm) {
        h.calls.incrementAndGet();
        try {
            h.hook.flushRemoteTlbs(vm);
        } catch (Exception | LinkageError | AssertionError t) {
            failed(h, "flushRemoteTlbs", vm, t);
        }
    }

    private void failed(GuardedTarget g, String call, Vm vm, Throwable t) {
        long n = g.failures.incrementAndGet();
        String line = "bundle " + g.bundle + ": " + g.name + "." + call + " failed on VM " + vm.name() + ": "
                + oneLine(t) + " (failure " + n + ")";
        g.lastError = line;
        LOG.log(Level.ERROR, line);
        int max = maxFailures;
        if (n >= max && g.disable("failed " + n + " times (guard.maxFailures=" + max + ")")) {
            LOG.log(Level.ERROR, "bundle " + g.bundle + ": disabled page-track notifier " + g.name + " after " + n
                    + " failures (guard.maxFailures=" + max + ")");
        }
    }

    private static String oneLine(Throwable t) {
        String m = t.getMessage();
        String s = m == null ? t.getClass().getName() : t.getClass().getName() + ": " + m;
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
