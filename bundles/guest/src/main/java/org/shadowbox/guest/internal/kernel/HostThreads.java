package org.shadowbox.guest.internal.kernel;

/**
 * The host side of work a run spreads over its host threads (the SMP scheduler's vCPU threads,
 * the verification's parts): waiting for the helper threads whatever interrupts the caller, and
 * handing the first failure to the caller as it was thrown.
 */
final class HostThreads {
    private HostThreads() {
    }

    /**
     * Waits until every thread of {@code others} has ended, also when the calling thread is
     * interrupted meanwhile (they end on their own); returns whether it was.
     */
    static boolean joinAll(Thread[] others) {
        boolean interrupted = false;
        for (Thread t : others) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        return interrupted;
    }

    /** Throws {@code f} as it is if unchecked, else wrapped; returns if {@code f} is null. */
    static void rethrow(Throwable f) {
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException(f);
        }
    }
}
