package org.shadowbox.pagetrack.internal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Foreign code that page track calls, as the {@link NotifierGuard} sees it: who it is, whom
 * to blame, and its record (calls, failures, timeouts, time, disabled, last error).
 */
abstract class GuardedTarget {
    /** The implementing class. */
    final String name;
    /** Symbolic name of the bundle blamed for its failures. */
    final String bundle;
    /** Its OSGi service id, or -1 outside OSGi. */
    final long serviceId;
    /** False for targets the system cannot do without (the MMU hook): counted, never disabled. */
    final boolean mayDisable;

    final AtomicLong calls = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong timeouts = new AtomicLong();
    /** Calls that spanned two or more ticks of the guard's clock, and their ticks. */
    final LongAdder slowCalls = new LongAdder();
    final LongAdder slowTicks = new LongAdder();
    /** One call in {@code SAMPLE_EVERY} is timed with nanoTime. */
    final LongAdder sampledCalls = new LongAdder();
    final LongAdder sampledNanos = new LongAdder();
    volatile boolean disabled;
    volatile String disabledReason;
    volatile String lastError;

    GuardedTarget(Object target, String bundle, long serviceId, boolean mayDisable) {
        this.name = target.getClass().getName();
        this.bundle = bundle;
        this.serviceId = serviceId;
        this.mayDisable = mayDisable;
    }

    /** Deny-lists the target (if it may be); the first reason stays. True if this call disabled it. */
    synchronized boolean disable(String reason) {
        if (!mayDisable || disabled) {
            return false;
        }
        disabledReason = reason;
        disabled = true;
        return true;
    }

    /** Time spent in the target, extrapolated from the timed sample to every call ({@code calls} in all). */
    long estimatedNanos(long calls) {
        long n = sampledCalls.sum();
        return n == 0 ? 0 : (long) ((double) sampledNanos.sum() * calls / n);
    }
}
