package org.shadowbox.guest.internal.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hold and wait times of the guest kernel's lock classes (lockdep's classes, as
 * {@code /proc/lock_stat} shows them), kept only in the diagnostic mode
 * {@code -Dshadowbox.lockstat=true} (read once, at class load). Summed over every lock of a
 * class and every thread since the last {@link #reset}.
 */
public final class LockStats {
    /** Whether the diagnostic mode is on. */
    public static final boolean STATS = Boolean.getBoolean("shadowbox.lockstat");

    private static final Map<String, Stat> CLASSES = new ConcurrentHashMap<>();

    private LockStats() {
    }

    /** One lock class's figures. */
    static final class Stat {
        final String name;
        final LongAdder acquisitions = new LongAdder();
        final LongAdder contentions = new LongAdder();
        final LongAdder heldNanos = new LongAdder();
        final LongAdder waitNanos = new LongAdder();

        Stat(String name) {
            this.name = name;
        }

        void acquired() {
            acquisitions.increment();
        }

        void contended(long waited) {
            contentions.increment();
            waitNanos.add(waited);
        }

        void held(long nanos) {
            heldNanos.add(nanos);
        }
    }

    /**
     * A class's figures as read.
     *
     * @param lockClass    the class ({@code mmap_lock}, {@code zone->lock}, ...)
     * @param acquisitions outermost acquisitions
     * @param contentions  acquisitions that had to wait
     * @param heldNanos    time held, summed over every holder
     * @param waitNanos    time waited to acquire, summed over every waiter
     */
    public record Row(String lockClass, long acquisitions, long contentions, long heldNanos, long waitNanos) {
    }

    static Stat of(String lockClass) {
        return CLASSES.computeIfAbsent(lockClass, Stat::new);
    }

    /** Every class seen so far, by name; empty unless {@link #STATS}. */
    public static List<Row> read() {
        List<Row> out = new ArrayList<>();
        for (Stat s : CLASSES.values()) {
            out.add(new Row(s.name, s.acquisitions.sum(), s.contentions.sum(), s.heldNanos.sum(), s.waitNanos.sum()));
        }
        out.sort((a, b) -> a.lockClass.compareTo(b.lockClass));
        return out;
    }

    private static final LongAdder THREAD_WALL = new LongAdder();
    private static final LongAdder THREAD_CPU = new LongAdder();
    private static final LongAdder RUN_DELAY = new LongAdder();
    private static final LongAdder IDLE = new LongAdder();
    private static final LongAdder IDLE_WAITS = new LongAdder();
    private static final LongAdder MIGRATIONS = new LongAdder();

    /**
     * What the host threads of SMP runs did ({@code SmpScheduler}), summed over every thread of
     * every run since the last {@link #reset}: whether they were both busy, or where not.
     *
     * @param wallNanos  from a thread's start of the run's loop to its end
     * @param cpuNanos   CPU time the threads got in that span (the host's scheduler decides:
     *                   under load a runnable thread waits for a core)
     * @param runDelayNanos time the threads were runnable in that span but waited for a core
     *                   (Linux's {@code run_delay}: the host gave their core to another thread,
     *                   such as the JIT's compiler or the collector); negative where unknown
     * @param idleNanos  time a thread waited on the run queue with nothing to run (the guest's idle)
     * @param idleWaits  such waits
     * @param migrations processes picked by another host thread than the one they last ran on
     *                   (their working set then moves between the host's cores)
     */
    public record Threads(long wallNanos, long cpuNanos, long runDelayNanos, long idleNanos, long idleWaits,
            long migrations) {
    }

    static void migrated() {
        MIGRATIONS.increment();
    }

    static void thread(long wallNanos, long cpuNanos, long runDelayNanos) {
        THREAD_WALL.add(wallNanos);
        THREAD_CPU.add(cpuNanos);
        RUN_DELAY.add(runDelayNanos);
    }

    /**
     * The calling thread's {@code run_delay} from Linux's {@code /proc/thread-self/schedstat}:
     * nanoseconds it has spent runnable but waiting for a core (taken off it by another thread,
     * or not yet put on one); -1 where the file cannot be read (not Linux, schedstats off).
     */
    static long runDelay() {
        try {
            String s = java.nio.file.Files.readString(SCHEDSTAT).trim();
            int a = s.indexOf(' ');
            int b = s.indexOf(' ', a + 1);
            return Long.parseLong(s.substring(a + 1, b < 0 ? s.length() : b));
        } catch (java.io.IOException | RuntimeException e) { // no such file, or not in the expected shape
            return -1;
        }
    }

    private static final java.nio.file.Path SCHEDSTAT = java.nio.file.Path.of("/proc/thread-self/schedstat");

    static void idle(long nanos) {
        IDLE.add(nanos);
        IDLE_WAITS.increment();
    }

    /** The SMP runs' threads since the last {@link #reset}; zero unless {@link #STATS}. */
    public static Threads threads() {
        return new Threads(THREAD_WALL.sum(), THREAD_CPU.sum(), RUN_DELAY.sum(), IDLE.sum(), IDLE_WAITS.sum(),
                MIGRATIONS.sum());
    }

    /** Zeroes every class (between a warm-up and a measured run). */
    public static void reset() {
        THREAD_WALL.reset();
        THREAD_CPU.reset();
        RUN_DELAY.reset();
        IDLE.reset();
        IDLE_WAITS.reset();
        MIGRATIONS.reset();
        for (Stat s : CLASSES.values()) {
            s.acquisitions.reset();
            s.contentions.reset();
            s.heldNanos.reset();
            s.waitNanos.reset();
        }
    }
}
