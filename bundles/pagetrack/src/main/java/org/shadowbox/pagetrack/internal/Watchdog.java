package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * The guard's clock and overrun detector (Felix EventAdmin's handler timeout, for page-track
 * notifiers). A daemon thread advances {@link NotifierGuard#tick} every {@value #TICK_MILLIS}
 * ms from {@code System.nanoTime()}, and scans every VM's {@link CallSlot}s: a call that has run
 * {@code guard.timeoutMillis} or longer (counted from the first scan that saw it, since the tick a
 * caller read may be stale when this thread runs late on a loaded machine) disables its notifier (deny-listed, reported with where
 * it was called from), is abandoned (unregistering no longer waits for it, see {@link Srcu}) and
 * the calling thread is interrupted, so that a callback blocked in {@code sleep}, {@code wait},
 * a lock or I/O returns and the vCPU goes on. A direct callback that ignores interruption keeps
 * its vCPU thread until it returns: the JVM cannot take a thread back from code that will not
 * give it up. An isolated notifier ({@code guard.isolate}) runs on a {@link Courier}: there the
 * interrupt wakes the waiting vCPU, which leaves the courier thread to its fate and goes on.
 *
 * <p>It runs only while notifiers are registered: {@link PageTrackCore} starts it with the
 * first and it ends after the last is gone.
 */
final class Watchdog implements Runnable {
    /** The guard's clock period. */
    static final long TICK_MILLIS = 10;

    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");

    private final PageTrackCore core;
    private final NotifierGuard guard;
    private final long origin;

    Watchdog(PageTrackCore core, NotifierGuard guard) {
        this.core = core;
        this.guard = guard;
        this.origin = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS) * guard.tick;
    }

    /** Starts the daemon thread. */
    Thread start() {
        Thread t = new Thread(this, "shadowbox-pagetrack-watchdog");
        t.setDaemon(true);
        t.setContextClassLoader(null);
        t.start();
        return t;
    }

    @Override
    public void run() {
        long period = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
        while (core.watchdogContinues(this)) {
            guard.tick = (System.nanoTime() - origin) / period;
            scan();
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return; // PageTrackCore.close()
            }
        }
    }

    private void scan() {
        long timeoutTicks = guard.timeoutTicks();
        if (timeoutTicks <= 0) {
            return;
        }
        long now = guard.tick;
        for (VmState st : core.statesArray()) {
            if (st == null) {
                continue;
            }
            for (CallSlot slot : st.slots) {
                GuardedTarget g = slot.current;
                if (g == null) {
                    continue;
                }
                long since = slot.since;
                if (slot.seenFor != since) {
                    // First sight of this call. Its start tick may be stale (the clock lags when this
                    // thread is scheduled late), so time it from now: never early, at most a tick late.
                    // A later call with the same start tick began after this scan saw this one running,
                    // so the same first sight bounds it too (and no target is kept: no class-loader leak).
                    slot.seenFor = since;
                    slot.seenAt = now;
                    continue;
                }
                if (now - slot.seenAt > timeoutTicks && g.mayDisable && slot.kickedFor != since) {
                    slot.kickedFor = since;
                    overrun(st, slot, g, since, now);
                }
            }
        }
    }

    /**
     * Counts the overrun, deny-lists {@code g}, and if the caller is still in that very call,
     * abandons it ({@link Srcu#abandon}: unregistering stops waiting for it) and interrupts the
     * caller. A direct caller blocked in {@code sleep}, {@code wait} or I/O returns at once; one
     * that ignores interrupts stays abandoned until (if ever) it returns. A caller waiting for its
     * {@link Courier} wakes up, abandons the courier and goes on. Every overrunning call is counted
     * and kicked, even of a notifier already disabled (a second vCPU stuck in it).
     */
    private void overrun(VmState st, CallSlot slot, GuardedTarget g, long since, long now) {
        long ms = (now - Math.min(since, slot.seenAt)) * TICK_MILLIS;
        boolean isolated = slot.courier != null;
        String line = "bundle " + g.bundle + ": " + g.name + " did not return within " + guard.timeoutMillis()
                + " ms (called from " + slot.where + " of VM " + st.vm.name() + ", running " + ms + " ms): disabled, "
                + (isolated ? "its courier thread abandoned and the vCPU goes on" : "and the caller interrupted");
        long n = g.timeouts.incrementAndGet();
        g.lastError = line + " (timeout " + n + ")";
        g.disable("did not return within " + guard.timeoutMillis() + " ms (" + slot.where + " of VM " + st.vm.name() + ")");
        LOG.log(Level.ERROR, line);
        Thread thread = slot.thread;
        slot.kicked = true; // volatile store: StoreLoad before the re-read of current
        if (slot.current == g && slot.since == since && thread != null) {
            // The caller is inside the call and cannot leave it before kickDone: see CallSlot.
            if (!slot.abandoned) {
                int idx = slot.srcuIdx;
                slot.abandonedIdx = idx;
                slot.srcu.abandon(idx);
                slot.abandoned = true;
            }
            thread.interrupt();
        }
        slot.kickDone = true;
    }
}
