package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small sleepable RCU, as KVM's {@code kvm->srcu} around {@code track_notifier_head}:
 * readers (notifier dispatch) take no lock and allocate nothing; a writer that unlinked
 * a notifier calls {@link #synchronize()} and returns only when no reader that could
 * have seen the notifier is still running.
 *
 * <p>Readers: {@code idx = readLock(); read the notifier array; call; readUnlock(idx)}.
 * The array MUST be read after {@link #readLock()}.
 *
 * <p>Why it is correct. Counter {@code c[i]} is the number of readers between their
 * increment and their decrement of index {@code i}; it never counts a reader that has
 * left. All accesses are volatile or atomic, so they fall in one total synchronization
 * order consistent with each thread's program order. Take a reader R that could call the
 * unlinked notifier N: it read the array before the writer's unlink, hence its increment
 * of {@code c[i]} also came before the unlink. The writer sees {@code c[0] == 0} and
 * {@code c[1] == 0}, each at some moment after the unlink; at the moment it sees
 * {@code c[i] == 0}, R must have decremented, so R is done. A reader whose increment came
 * after the writer's read of zero reads the array after the unlink and cannot see N.
 * So after {@code synchronize()} nothing calls N and no call into N runs.
 *
 * <p>Why it terminates. Before waiting on a counter the writer flips {@link #epoch} so that
 * new readers count on the other one; only readers that read the old epoch just before
 * the flip can still enter the drained counter, and there are finitely many of them. Then
 * it flips back and drains the other counter the same way (Linux's SRCU also waits on
 * both indexes). Writers are serialized by a lock; readers never wait.
 */
final class Srcu {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");
    /** Ints between the two counters so they sit on different cache lines. */
    private static final int STRIDE = 16;
    private static final int SPINS = 256;
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long WARN_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final AtomicIntegerArray readers = new AtomicIntegerArray(2 * STRIDE);
    private final ReentrantLock writers = new ReentrantLock();
    private final String what;
    private volatile int epoch;

    /** @param what names the protected list in a slow-wait warning, e.g. "notifiers of VM demo" */
    Srcu(String what) {
        this.what = what;
    }

    /** {@code srcu_read_lock}: one atomic increment. Returns the index to hand back. */
    int readLock() {
        int idx = (epoch & 1) * STRIDE;
        readers.incrementAndGet(idx);
        return idx;
    }

    /** {@code srcu_read_unlock}. */
    void readUnlock(int idx) {
        readers.decrementAndGet(idx);
    }

    /**
     * {@code synchronize_srcu}: waits until every reader that entered before this call has
     * left. Call it after unlinking. Never call it from a reader (it would wait for itself).
     */
    void synchronize() {
        writers.lock();
        try {
            int e = epoch;
            epoch = e ^ 1;
            drain((e & 1) * STRIDE);
            epoch = e;
            drain(((e ^ 1) & 1) * STRIDE);
        } finally {
            writers.unlock();
        }
    }

    private void drain(int idx) {
        boolean interrupted = false;
        boolean warned = false;
        long start = System.nanoTime();
        long park = 1_000;
        int spins = 0;
        while (readers.get(idx) != 0) {
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
                continue;
            }
            // Unparking would cost readers; a writer polls with a growing sleep instead.
            LockSupport.parkNanos(this, park);
            park = Math.min(park * 2, MAX_PARK_NANOS);
            if (Thread.interrupted()) {
                interrupted = true; // the guarantee outranks the interrupt: keep waiting
            }
            if (!warned && System.nanoTime() - start > WARN_AFTER_NANOS) {
                warned = true;
                LOG.log(Level.WARNING, "unlinking from " + what
                        + " still waits for a running call after 10 s (a notifier that does not return,"
                        + " or one unregistering itself from its own callback?)");
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
