package org.shadowbox.vm.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

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
    /**
     * Whether long sections are also told apart by where they were held
     * ({@code -Dshadowbox.lockstat.sites=true}, with the diagnostic mode), as lock_stat's
     * contention points: the method that released the lock and its three callers. The stack is
     * walked after the release, on the releasing thread, so no section is made longer, but that
     * thread's run is (some 10 to 50 microseconds per long section).
     */
    public static final boolean SITES = STATS && Boolean.getBoolean("shadowbox.lockstat.sites");
    /** Frames of a site: the releasing method and its callers. */
    private static final int SITE_FRAMES = 4;
    private static final StackWalker WALKER = StackWalker.getInstance();
    private static final ConcurrentHashMap<String, long[]> BY_SITE = new ConcurrentHashMap<>();

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

    /**
     * Where the lock was held: one long section of {@code nanos}, counted against its site,
     * the method that called {@link MmuSpinLock#unlock} and three frames above it.
     */
    static void longSection(long nanos) {
        String site = WALKER.walk(frames -> frames.skip(3).limit(SITE_FRAMES)
                .map(f -> simpleName(f.getClassName()) + "." + f.getMethodName())
                .collect(Collectors.joining(" < ")));
        long[] sum = BY_SITE.computeIfAbsent(site, k -> new long[2]);
        synchronized (sum) {
            sum[0]++;
            sum[1] += nanos;
        }
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    /**
     * Long sections of one site.
     *
     * @param site     the releasing method and its callers, innermost first ({@code a < b < c})
     * @param sections long sections released there
     * @param nanos    their time held
     */
    public record Site(String site, long sections, long nanos) {
    }

    /** The long sections by site since the last {@link #reset}, the longest total first; empty unless {@link #SITES}. */
    public static List<Site> sites() {
        List<Site> out = new ArrayList<>();
        BY_SITE.forEach((k, v) -> {
            synchronized (v) {
                out.add(new Site(k, v[0], v[1]));
            }
        });
        out.sort(Comparator.comparingLong(Site::nanos).reversed());
        return out;
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
        BY_SITE.clear();
    }
}
