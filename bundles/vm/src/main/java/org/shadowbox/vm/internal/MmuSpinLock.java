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
 * <p>Only {@link #lock()} changes; everything else (reentrancy, conditions, tryLock,
 * isHeldByCurrentThread) is ReentrantLock's, non-fair as a spinlock is.
 */
final class MmuSpinLock extends ReentrantLock {
    private static final long serialVersionUID = 1L;
    /** Spins before parking: about 20 µs of PAUSE on current x86. */
    static final int SPINS = 512;

    @Override
    public void lock() {
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
