package org.shadowbox.mmu.internal.osgi;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code vcpu->mutex}: held by the vCPU's thread for each access that misses the TLB and each
 * instruction that may change its TLB or the guest's memory ({@link #lock}, {@link #unlock}),
 * and taken by the TDP checker for every vCPU at once ({@code kvm_lock_all_vcpus}, {@link
 * #tryLock}). Reentrant, as the {@link java.util.concurrent.locks.ReentrantLock} it replaces.
 *
 * <p>Why not that lock. A vCPU thread takes this mutex on every TLB miss (about one access in
 * eight under TDP), and a {@code ReentrantLock} keeps its state in a small object of its own,
 * which the JVM places next to whatever was allocated after it: the next vCPU's adapter, which
 * another host thread reads on every access. Each miss then wrote a cache line the other vCPU
 * thread kept reading, and a TDP run on two host threads paid 1.46 to 1.60 x one thread's CPU per
 * access, against 1.11 to 1.13 x with no mutex at all (docs/benchmarks.md, "The vCPU mutex"). Here the lock
 * word has a cache line of its own: 64 bytes of fields before it ({@link MutexPad}) and after it.
 * KVM's {@code struct kvm_vcpu}, whose {@code mutex} this is, is allocated cache-line aligned.
 *
 * <p>Taking it is one compare-and-set of the lock word, giving it back a release store; the
 * holder's count of nested holds is read and written by the holder alone. Fairness is what the
 * checker needs and no more: a checker announces itself ({@link #wanted}) before it tries, and
 * from then on the vCPU's thread does not take the mutex again once it has let it go, so the
 * checker gets it at the vCPU's next point between two accesses ({@code ReentrantLock(true)}
 * gave the same by queueing). A vCPU thread that finds it held or wanted spins, yields, then
 * sleeps between tries: the checker holds it for one check.
 *
 * <p>Why it excludes: only a successful compare-and-set from null takes the lock word (one winner
 * per release); the release store is the holder's last write of its section and the next
 * winner's compare-and-set reads it with acquire semantics, so all a holder did happens-before
 * all the next holder does.
 */
final class VcpuMutex extends MutexFields {
    /** 64 bytes after the lock word (the JVM lays out references after primitives). */
    @SuppressWarnings("unused")
    private Object q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15;

    /** Spins before a waiter starts yielding its core. */
    private static final int SPINS = 1 << 10;
    /** Yields before a waiter starts sleeping. */
    private static final int YIELDS = 1 << 10;
    /** The first sleep of a waiter past its spins and yields. */
    private static final long MIN_SLEEP_NANOS = 1_000;
    /** The longest sleep between two tries. */
    private static final long MAX_SLEEP_NANOS = 1_000_000;

    /** The vCPU's thread: takes it, or waits while it is held or a checker wants it. */
    void lock() {
        Thread me = Thread.currentThread();
        if (OWNER.getOpaque(this) == me) {
            holds++;
            return;
        }
        if ((int) WANTED.getOpaque(this) != 0 || !OWNER.compareAndSet(this, null, me)) {
            lockSlow(me);
        }
        holds = 1;
    }

    /** {@link #lock} contended: spin, yield, then sleep between tries; meanwhile the blocker is this mutex. */
    private void lockSlow(Thread me) {
        LockSupport.setCurrentBlocker(this);
        try {
            long sleep = MIN_SLEEP_NANOS;
            for (int i = 0; (int) WANTED.getOpaque(this) != 0 || OWNER.getOpaque(this) != null
                    || !OWNER.compareAndSet(this, null, me); i++) {
                if (i < SPINS) {
                    Thread.onSpinWait();
                } else if (i < SPINS + YIELDS) {
                    Thread.yield();
                } else {
                    LockSupport.parkNanos(sleep);
                    sleep = Math.min(sleep * 2, MAX_SLEEP_NANOS);
                }
            }
        } finally {
            LockSupport.setCurrentBlocker(null);
        }
    }

    /**
     * The checker's side: announces itself, then waits until the vCPU is between two accesses or
     * {@code timeout} has passed; true if it got the mutex (then held until {@link #unlock}).
     */
    boolean tryLock(long timeout, TimeUnit unit) throws InterruptedException {
        Thread me = Thread.currentThread();
        if (OWNER.getOpaque(this) == me) {
            holds++;
            return true;
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        WANTED.getAndAdd(this, 1);
        LockSupport.setCurrentBlocker(this);
        try {
            long sleep = MIN_SLEEP_NANOS;
            for (int i = 0; OWNER.getOpaque(this) != null || !OWNER.compareAndSet(this, null, me); i++) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                if (i < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(Math.min(sleep, left));
                    sleep = Math.min(sleep * 2, MAX_SLEEP_NANOS);
                }
            }
            holds = 1;
            return true;
        } finally {
            LockSupport.setCurrentBlocker(null);
            WANTED.getAndAdd(this, -1);
        }
    }

    void unlock() {
        if (OWNER.getOpaque(this) != Thread.currentThread()) {
            throw new IllegalMonitorStateException("vcpu->mutex released by a thread that does not hold it");
        }
        if (--holds == 0) {
            OWNER.setRelease(this, null);
        }
    }

    /** Whether some thread holds it (a test's and a message's question). */
    boolean isLocked() {
        return OWNER.getAcquire(this) != null;
    }
}
