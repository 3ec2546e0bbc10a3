package org.shadowbox.vm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code kvm->mmu_lock} as KVM has it, a spinlock ({@code spin_lock}/{@code spin_unlock} of
 * a queued spinlock): taken with one compare-and-set of a lock word, released with a plain
 * release store ({@code smp_store_release(&lock->locked, 0)}: no fence on x86), so a fault's
 * critical section costs one locked instruction, not two as an {@link ReentrantLock}'s
 * volatile release does. A vCPU that finds it held spins, because the holder is another vCPU
 * running on another core and will let go within a few hundred nanoseconds (a TLB-miss walk, a
 * fault's spte update). After {@value #SPINS} spins (the holder was descheduled, or the section
 * is long: a zap of many pages) the waiter sleeps for a growing time ({@value #MIN_SLEEP_NANOS}
 * ns doubling to {@value #MAX_SLEEP_NANOS} ns) between tries, so that a host with fewer cores
 * than vCPU threads is not burnt. Nobody is woken on release: that would need a fence after the
 * release store (a Dekker handshake with the sleeper) on every unlock, which is what the release
 * store saves; a sleeper finds the lock free at its next try instead.
 *
 * <p>Why it excludes: the lock word is {@link #owner}, null when free. Only a successful CAS from
 * null takes it (CASes on one word are totally ordered: one winner per release); the release store is the
 * holder's last write of its section, and the next winner's CAS reads it with acquire
 * semantics, so everything the previous holder did in its section happens-before everything the
 * next one does (JLS 17.4.5 with {@link VarHandle} release/acquire, as the x86 TSO model gives
 * KVM's unlock). {@code MmuSpinLockTest} checks this with threads racing on a plain counter.
 *
 * <p>Not reentrant, as KVM's spinlock is not: taking it again on the thread that holds it is
 * a bug (a path that needs the lock while holding it calls a {@code *Locked} variant). With
 * assertions on (every test) a second acquisition fails at once, as lockdep reports a
 * recursive lock. It is a {@link ReentrantLock} only for its type (vm SPI's
 * {@code PlatformVm.mmuLock()} returns one): {@link #lock}, {@link #tryLock()},
 * {@link #unlock}, {@link #isLocked}, {@link #isHeldByCurrentThread} and
 * {@link #getHoldCount} are this lock's; it has no conditions and no queue (a spinlock has
 * neither): {@link #newCondition} throws, and the queue queries of {@link ReentrantLock} answer
 * for an empty queue. A thread waiting in {@link #lock()} (spinning or sleeping) has this lock
 * as its {@link LockSupport#getBlocker blocker}, as a thread parked on a ReentrantLock has.
 */
final class MmuSpinLock extends ReentrantLock {
    private static final long serialVersionUID = 2L;
    /** Spins before sleeping: about 20 µs of PAUSE on current x86. */
    static final int SPINS = 512;
    /** The first sleep of a waiter past its spins. */
    static final long MIN_SLEEP_NANOS = 1_000;
    /** The longest sleep between two tries: about the most a waiter overstays a release (Linux adds its timer slack, 50 µs). */
    static final long MAX_SLEEP_NANOS = 100_000;

    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(MmuSpinLock.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The lock word: the holder, null when free. Written by CAS (take) and release store (give back). */
    @SuppressWarnings("unused") // through OWNER
    private transient Thread owner;
    /** When the holder took it: written and read by the holder only, in the diagnostic mode ({@link MmuLockStats}). */
    private transient long acquiredAt;

    /** {@code spin_lock}. */
    @Override
    public void lock() {
        Thread me = Thread.currentThread();
        assert OWNER.getOpaque(this) != me : "mmu_lock taken again by the thread that holds it (not reentrant:"
                + " call the *Locked variant)";
        if (!OWNER.compareAndSet(this, null, me)) {
            lockSlow(me);
        }
        if (MmuLockStats.STATS) {
            acquired();
        }
    }

    /** The diagnostic mode's start of a section ({@link MmuLockStats}), out of line to keep {@link #lock()} small. */
    private void acquired() {
        acquiredAt = System.nanoTime();
    }

    /** Contended: spin, then sleep between tries; meanwhile the thread's blocker is this lock. */
    private void lockSlow(Thread me) {
        long start = MmuLockStats.STATS ? System.nanoTime() : 0;
        LockSupport.setCurrentBlocker(this);
        try {
            for (int i = 0; i < SPINS; i++) {
                Thread.onSpinWait();
                if (OWNER.getOpaque(this) == null && OWNER.compareAndSet(this, null, me)) {
                    return;
                }
            }
            boolean interrupted = false;
            long sleep = MIN_SLEEP_NANOS;
            while (OWNER.getOpaque(this) != null || !OWNER.compareAndSet(this, null, me)) {
                if (MmuLockStats.STATS) {
                    MmuLockStats.slept();
                }
                LockSupport.parkNanos(sleep);
                sleep = Math.min(sleep * 2, MAX_SLEEP_NANOS);
                if (Thread.interrupted()) {
                    interrupted = true; // lock() is not interruptible: keep the interrupt for the caller
                }
            }
            if (interrupted) {
                me.interrupt();
            }
        } finally {
            LockSupport.setCurrentBlocker(null);
            if (MmuLockStats.STATS) {
                MmuLockStats.waited(System.nanoTime() - start);
            }
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        lock();
        if (Thread.interrupted()) {
            unlock();
            throw new InterruptedException();
        }
    }

    /** {@code spin_trylock}: one CAS. */
    @Override
    public boolean tryLock() {
        Thread me = Thread.currentThread();
        assert OWNER.getOpaque(this) != me : "mmu_lock taken again by the thread that holds it (not reentrant)";
        if (!OWNER.compareAndSet(this, null, me)) {
            return false;
        }
        if (MmuLockStats.STATS) {
            acquired();
        }
        return true;
    }

    @Override
    public boolean tryLock(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        long sleep = MIN_SLEEP_NANOS;
        for (int i = 0; !tryLock(); i++) {
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
                LockSupport.parkNanos(this, Math.min(sleep, left));
                sleep = Math.min(sleep * 2, MAX_SLEEP_NANOS);
            }
        }
        return true;
    }

    /**
     * {@code spin_unlock}: a release store of the free lock word. Throws
     * {@link IllegalMonitorStateException} when the calling thread does not hold it.
     */
    @Override
    public void unlock() {
        if (OWNER.getOpaque(this) != Thread.currentThread()) { // only the holder wrote itself there
            throw new IllegalMonitorStateException("mmu_lock released by a thread that does not hold it");
        }
        if (MmuLockStats.STATS) {
            releaseCounted();
            return;
        }
        OWNER.setRelease(this, null);
    }

    /**
     * The diagnostic mode's release: the section's own time taken before the release and, for
     * a long one, its site ({@link MmuLockStats#SITES}) found after it.
     */
    private void releaseCounted() {
        long held = System.nanoTime() - acquiredAt;
        MmuLockStats.held(held);
        OWNER.setRelease(this, null);
        if (MmuLockStats.SITES && held > MmuLockStats.LONG_NANOS) {
            MmuLockStats.longSection(held);
        }
    }

    @Override
    public boolean isLocked() {
        return OWNER.getAcquire(this) != null;
    }

    /** {@code lockdep_assert_held}: the holder reads its own write; any other thread reads something else. */
    @Override
    public boolean isHeldByCurrentThread() {
        return OWNER.getOpaque(this) == Thread.currentThread();
    }

    @Override
    public int getHoldCount() {
        return isHeldByCurrentThread() ? 1 : 0;
    }

    @Override
    protected Thread getOwner() {
        return (Thread) OWNER.getAcquire(this);
    }

    /** A spinlock has no conditions. */
    @Override
    public Condition newCondition() {
        throw new UnsupportedOperationException("mmu_lock is a spinlock: it has no conditions");
    }

    @Override
    public String toString() {
        Thread o = getOwner();
        return "mmu_lock[" + (o == null ? "unlocked" : "locked by " + o.getName()) + "]";
    }
}
