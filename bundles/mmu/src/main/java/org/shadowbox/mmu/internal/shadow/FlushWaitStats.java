package org.shadowbox.mmu.internal.shadow;

import java.util.concurrent.atomic.LongAdder;

/**
 * How long {@code kvm_flush_remote_tlbs} waits for the other vCPUs to leave guest mode
 * ({@link VcpuMode#waitForVcpus}), kept only in the diagnostic mode
 * {@code -Dshadowbox.lockstat=true} (the guest's lock statistics' switch, read once at class
 * load): every remote flush of a shadow MMU, the ones whose wait took longer than
 * {@link #SLOW_NANOS}, the time waited and the time spent posting the requests before it (a
 * read-modify-write of each vCPU's request word, lines the vCPUs' threads read on every access),
 * summed over every VM and thread since the last
 * {@link #reset}. Off, the flush pays one static final test. It answers whether the remote
 * flushes' waits are what bounds a run on several host threads.
 */
public final class FlushWaitStats {
    /** Whether the diagnostic mode is on. */
    public static final boolean STATS = Boolean.getBoolean("shadowbox.lockstat");
    /** A wait longer than this (1 microsecond) found a vCPU still walking or storing. */
    public static final long SLOW_NANOS = 1_000;

    private static final LongAdder FLUSHES = new LongAdder();
    private static final LongAdder SLOW = new LongAdder();
    private static final LongAdder WAIT_NANOS = new LongAdder();
    private static final LongAdder POST_NANOS = new LongAdder();

    private FlushWaitStats() {
    }

    /**
     * The figures as read.
     *
     * @param flushes   remote flushes (each waited for every vCPU)
     * @param slow      flushes whose wait took longer than {@link #SLOW_NANOS}
     * @param waitNanos time spent in the waits, summed over every flushing thread
     * @param postNanos time spent posting the requests, before the waits
     */
    public record Row(long flushes, long slow, long waitNanos, long postNanos) {
    }

    static void flushed(long postNanos, long nanos) {
        FLUSHES.increment();
        POST_NANOS.add(postNanos);
        if (nanos > SLOW_NANOS) {
            SLOW.increment();
        }
        WAIT_NANOS.add(nanos);
    }

    /** The figures since the last {@link #reset}; zero unless {@link #STATS}. */
    public static Row read() {
        return new Row(FLUSHES.sum(), SLOW.sum(), WAIT_NANOS.sum(), POST_NANOS.sum());
    }

    /** Zeroes the figures (between a warm-up and a measured run). */
    public static void reset() {
        FLUSHES.reset();
        SLOW.reset();
        WAIT_NANOS.reset();
        POST_NANOS.reset();
    }
}
