package org.shadowbox.vm.internal;

import java.util.concurrent.atomic.LongAdder;

/**
 * How long {@code kvm->mmu_lock} ({@link MmuSpinLock}) is held and waited for, kept only in the
 * diagnostic mode {@code -Dshadowbox.lockstat=true} (the guest's lock statistics' switch, read
 * once at class load), summed over every VM and thread since the last {@link #reset}. Off, the
 * lock pays one static final test, which the JIT folds away. The MMU lock is what every vCPU
 * of a VM takes on a fault, an {@code invlpg} and a CR3 switch (as in KVM 4.5, whose shadow MMU
 * has no other lock): its held time is the serial part the guest's own locks do not show, and
 * its waits are what one vCPU thread costs the other.
 */
public final class MmuLockStats {
    /** Whether the diagnostic mode is on. */
    public static final boolean STATS = Boolean.getBoolean("shadowbox.lockstat");
    /** A section held longer than this (10 microseconds) counts as long. */
    public static final long LONG_NANOS = 10_000;

    private static final LongAdder ACQUISITIONS = new LongAdder();
    private static final LongAdder CONTENDED = new LongAdder();
    private static final LongAdder HELD_NANOS = new LongAdder();
    private static final LongAdder LONG_HOLDS = new LongAdder();
    private static final LongAdder LONG_HELD_NANOS = new LongAdder();
    private static final LongAdder WAIT_NANOS = new LongAdder();
    private static final LongAdder SLEEPS = new LongAdder();

    private MmuLockStats() {
    }

    /**
     * The figures as read.
     *
     * @param acquisitions  sections (every {@code lock} and successful {@code tryLock})
     * @param contended     acquisitions that found the lock held
     * @param heldNanos     time held, summed over the sections
     * @param longHolds     sections held longer than {@link #LONG_NANOS}
     * @param longHeldNanos the time of those
     * @param waitNanos     time the contended acquisitions waited (spinning, yielding or asleep)
     * @param sleeps        sleeps of waiters past their spin and yield phases
     */
    public record Row(long acquisitions, long contended, long heldNanos, long longHolds, long longHeldNanos,
            long waitNanos, long sleeps) {
    }

    static void held(long nanos) {
        ACQUISITIONS.increment();
        HELD_NANOS.add(nanos);
        if (nanos > LONG_NANOS) {
            LONG_HOLDS.increment();
            LONG_HELD_NANOS.add(nanos);
        }
    }

    static void waited(long nanos) {
        CONTENDED.increment();
        WAIT_NANOS.add(nanos);
    }

    static void slept() {
        SLEEPS.increment();
    }

    /** The figures since the last {@link #reset}; zero unless {@link #STATS}. */
    public static Row read() {
        return new Row(ACQUISITIONS.sum(), CONTENDED.sum(), HELD_NANOS.sum(), LONG_HOLDS.sum(), LONG_HELD_NANOS.sum(),
                WAIT_NANOS.sum(), SLEEPS.sum());
    }

    /** Zeroes the figures (between a warm-up and a measured run). */
    public static void reset() {
        ACQUISITIONS.reset();
        CONTENDED.reset();
        HELD_NANOS.reset();
        LONG_HOLDS.reset();
        LONG_HELD_NANOS.reset();
        WAIT_NANOS.reset();
        SLEEPS.reset();
    }
}
