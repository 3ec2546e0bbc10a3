package org.shadowbox.vm.internal;

import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code kvm->mmu_lock} as KVM has it, a spinlock: a vCPU that finds it held spins, because
 * the holder is another vCPU running on another core and will let go within a few hundred
 * nanoseconds (a TLB-miss walk, a fault's spte update). Parking at once, as a plain
 * {@link ReentrantLock} does, costs a scheduler round trip of tens of microseconds per
 * contended acquisition and made two vCPU threads slower than one. After {@value #SPINS}
 * spins (the holder was descheduled, or the section is long: a zap of many pages) it parks
 * as a ReentrantLock does, so that a host with fewer cores than vCPU threads is not burnt.
 *
 * <p>Not reentrant, as KVM's spinlock is not: taking it again on the thread that holds it is
 * a bug (a path that needs the lock while holding it calls a {@code *Locked} variant). With
 * assertions on (every test) a second acquisition fails at once, as lockdep reports a
 * recursive lock; without them it behaves as ReentrantLock's, so that such a bug in a
 * production run costs nothing worse than today. Everything else (conditions, tryLock,
 * isHeldByCurrentThread) is ReentrantLock's, non-fair as a spinlock is.
 */
final class MmuSpinLock extends ReentrantLock {
    private static final long serialVersionUID = 1L;
    /** Spins before parking: about 20 µs of PAUSE on current x86. */
    static final int SPINS = 512;

    @Override
    public void lock() {
        assert !isHeldByCurrentThread() : "mmu_lock taken again by the thread that holds it (not reentrant:"
                + " call the *Locked variant)";
        if (tryLock()) {
            return;
        }
        for (int i = 0; i < SPINS; i++) {
            Thread.onSpinWait();
            if (!isLocked() && tryLock()) {
                return;
            }
        }
        super.lock();
    }
}
