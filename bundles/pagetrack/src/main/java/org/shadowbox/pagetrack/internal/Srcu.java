package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small sleepable RCU, as KVM's {@code kvm->srcu} around {@code track_notifier_head}:
 * readers (notifier dispatch) take no lock and allocate nothing; a writer that unlinked
 * a notifier calls {@link #synchronize()} and returns only when no reader that could
 * have seen the notifier is still running, or still able to call anything it saw.
 *
 * <p>Readers: {@code idx = readLock(); read the notifier array; call; readUnlock(idx)}.
 * The array MUST be read after {@link #readLock()}.
 *
 * <p>Abandoned readers. A reader stuck in a call that the watchdog has timed out (a callback
 * that ignores interrupts) would hold every writer forever, and with it the framework's bundle
 * stop. So the watchdog may {@link #abandon} such a reader: each index keeps one word, readers
 * in its low 32 bits and abandoned readers in its high 32, and {@link #synchronize()} waits
 * until the two halves are equal instead of until there is no reader. The reader, when (if
 * ever) its call returns, un-counts itself with {@link #resume} before it calls anything else
 * and then leaves its read section and enters a new one, re-reading the array (the dispatch
 * loop's resync in {@link PageTrackCore}): it never calls a notifier from the array it read
 * before it was abandoned. What a writer gives up is exactly the abandoned call itself: if
 * it runs in the notifier being unlinked, that one call may still be running when
 * {@code synchronize()} returns (the caller reports it). Every other call is waited for.
 *
 * <p>Why it is correct. Word {@code w[i]} holds r = the readers between their increment and
 * their decrement of index {@code i}, and a = the abandoned ones among them (the watchdog adds
 * to a only while the reader is inside a call of its section, which it cannot leave before the
 * watchdog is done, see {@link CallSlot}; the reader takes its abandonment back before it
 * decrements r; a slot carries at most one abandonment at a time). So always a &lt;= r, and
 * both halves are read in one atomic load. All accesses are volatile or atomic, so they fall
 * in one total synchronization order consistent with each thread's program order. Take a
 * reader R that could call the unlinked notifier N: it read the array before the writer's
 * unlink, hence its increment of {@code w[i]} also came before the unlink. The writer sees
 * r == a in {@code w[0]} and in {@code w[1]}, each at some moment after the unlink; at that
 * moment R has either decremented (it is done) or is counted in a: it is inside its abandoned
 * call and will, on return, resume and re-read the array, which no longer holds N. A reader
 * whose increment came after the writer's read reads the array after the unlink and cannot
 * see N. So after {@code synchronize()} nothing calls N, and no call into N runs except an
 * abandoned one.
 *
 * <p>Why it terminates. Before waiting on a counter the writer flips {@link #epoch} so that
 * new readers count on the other one; only readers that read the old epoch just before
 * the flip can still enter the drained counter, and there are finitely many of them. Then
 * it flips back and drains the other counter the same way (Linux's SRCU also waits on
 * both indexes). A reader that neither returns nor is abandoned (timeouts off) still holds
 * the writer: a warning after 10 s says so. Writers are serialized by a lock; readers never
 * wait.
 */
final class Srcu {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");
    /** Longs between the two words so they sit on different cache lines. */
    private static final int STRIDE = 8;
    /** One abandoned reader, in the high half of a word. */
    private static final long ABANDONED = 1L << 32;
    private static final int SPINS = 256;
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long WARN_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** Per index: readers in the low 32 bits, abandoned readers among them in the high 32. */
    private final AtomicLongArray readers = new AtomicLongArray(2 * STRIDE);
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
     * The watchdog gives up on a reader of {@code idx} stuck in a timed-out call: writers stop
     * waiting for it. Only while that reader is inside the call (see {@link CallSlot}).
     */
    void abandon(int idx) {
        readers.addAndGet(idx, ABANDONED);
    }

    /** The abandoned reader's call returned: it counts again, until its {@link #readUnlock}. */
    void resume(int idx) {
        readers.addAndGet(idx, -ABANDONED);
    }

    /** Readers abandoned now, over both indexes (tools and tests). */
    int abandoned() {
        return (int) (readers.get(0) >>> 32) + (int) (readers.get(STRIDE) >>> 32);
    }

    /**
     * {@code synchronize_srcu}: waits until every reader that entered before this call has
     * left or is abandoned (see above). Call it after unlinking. Never call it from a reader (it would wait for itself).
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
        for (long w = readers.get(idx); (int) w != (int) (w >>> 32); w = readers.get(idx)) {
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
                        + " still waits for a running call after 10 s (a notifier that does not return"
                        + " with guard.timeoutMillis=0, or one unregistering itself from its own callback?)");
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
