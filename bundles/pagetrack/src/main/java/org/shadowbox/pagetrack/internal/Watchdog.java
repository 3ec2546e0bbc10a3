package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * The guard's clock and overrun detector (Felix EventAdmin's handler timeout, for page-track
 * notifiers). A daemon thread advances {@link NotifierGuard#tick} every {@value #TICK_MILLIS}
 * ms from {@code System.nanoTime()}, and scans every VM's {@link CallSlot}s: a call that has run
 * {@code guard.timeoutMillis} or longer disables its notifier (deny-listed, reported with where
 * it was called from) and the calling thread is interrupted, so that a callback blocked in
 * {@code sleep}, {@code wait}, a lock or I/O returns and the vCPU goes on. A callback that
 * ignores interruption keeps its thread until it returns: the JVM cannot take a thread back
 * from code that will not give it up. Its notifier is disabled all the same, and tools see the
 * call still running.
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
                if (now - since >= timeoutTicks && g.mayDisable && slot.kickedFor != since) {
                    slot.kickedFor = since;
                    overrun(st, slot, g, since, now);
                }
            }
        }
    }

    /**
     * Counts the overrun, deny-lists {@code g} and interrupts the caller if it is still in that
     * very call. Every overrunning call is counted and interrupted, even of a notifier already
     * disabled (a second vCPU stuck in it).
     */
    private void overrun(VmState st, CallSlot slot, GuardedTarget g, long since, long now) {
        long ms = (now - since) * TICK_MILLIS;
        String line = "bundle " + g.bundle + ": " + g.name + " did not return within " + guard.timeoutMillis()
                + " ms (called from " + slot.where + " of VM " + st.vm.name() + ", running " + ms
                + " ms): disabled, and the caller interrupted";
        long n = g.timeouts.incrementAndGet();
        g.lastError = line + " (timeout " + n + ")";
        g.disable("did not return within " + guard.timeoutMillis() + " ms (" + slot.where + " of VM " + st.vm.name() + ")");
        LOG.log(Level.ERROR, line);
        Thread thread = slot.thread;
        slot.kicked = true; // volatile store: StoreLoad before the re-read of current
        if (slot.current == g && slot.since == since && thread != null) {
            thread.interrupt();
        }
        slot.kickDone = true;
    }
}
