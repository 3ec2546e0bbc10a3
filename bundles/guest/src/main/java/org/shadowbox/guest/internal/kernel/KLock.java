package org.shadowbox.guest.internal.kernel;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A lock of the guest kernel: a {@link ReentrantLock} with its lock class ({@link LockStats},
 * lockdep's notion: every mm's {@code mmap_lock} is one class), {@code lockdep_assert_held}
 * ({@link #assertHeld}) and, in the diagnostic mode only ({@code -Dshadowbox.lockstat=true}),
 * hold and wait times per class, so that the share of a run spent under each lock (the serial
 * fraction that bounds scaling) can be measured. Off, the counters cost one static final test.
 * Time spent waiting on a {@link Condition} of the lock is not counted as held.
 */
final class KLock {
    private final ReentrantLock lock = new ReentrantLock();
    private final String name;
    private final LockStats.Stat stat;
    /** When the holder took it (diagnostic mode; written and read by the holder only). */
    private long since;

    KLock(String lockClass) {
        this.name = lockClass;
        this.stat = LockStats.STATS ? LockStats.of(lockClass) : null;
    }

    void lock() {
        if (!LockStats.STATS) {
            lock.lock();
            return;
        }
        if (!lock.tryLock()) {
            long t0 = System.nanoTime();
            lock.lock();
            stat.contended(System.nanoTime() - t0);
        }
        if (lock.getHoldCount() == 1) {
            stat.acquired();
            since = System.nanoTime();
        }
    }

    void unlock() {
        if (LockStats.STATS && lock.getHoldCount() == 1) {
            stat.held(System.nanoTime() - since);
        }
        lock.unlock();
    }

    boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /** {@code lockdep_assert_held}: throws naming the lock class when the caller does not hold it. */
    void assertHeld() {
        if (!lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("guest kernel bug: " + name() + " not held by " + Thread.currentThread().getName());
        }
    }

    /** The opposite, for the rules "never under this lock" (an allocation under the page-table lock). */
    void assertNotHeld() {
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("guest kernel bug: " + name() + " held by " + Thread.currentThread().getName()
                    + " where it must not be");
        }
    }

    String name() {
        return name;
    }

    Condition newCondition() {
        return lock.newCondition();
    }

    /** {@code c.awaitUninterruptibly()}, the wait not counted as held. */
    void await(Condition c) {
        pause();
        c.awaitUninterruptibly();
        resume();
    }

    /** {@code c.awaitNanos(nanos)}, the wait not counted as held. */
    long awaitNanos(Condition c, long nanos) throws InterruptedException {
        pause();
        try {
            return c.awaitNanos(nanos);
        } finally {
            resume();
        }
    }

    private void pause() {
        if (LockStats.STATS && lock.getHoldCount() == 1) {
            stat.held(System.nanoTime() - since);
        }
    }

    private void resume() {
        if (LockStats.STATS && lock.getHoldCount() == 1) {
            since = System.nanoTime();
        }
    }
}
