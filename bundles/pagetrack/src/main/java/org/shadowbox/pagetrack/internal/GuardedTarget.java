package org.shadowbox.pagetrack.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Foreign code that page track calls, as the {@link NotifierGuard} sees it: who it is, whom
 * to blame, and its record (calls, failures, disabled, last error).
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
    volatile boolean disabled;
    volatile String lastError;

    GuardedTarget(Object target, String bundle, long serviceId, boolean mayDisable) {
        this.name = target.getClass().getName();
        this.bundle = bundle;
        this.serviceId = serviceId;
        this.mayDisable = mayDisable;
    }
}
