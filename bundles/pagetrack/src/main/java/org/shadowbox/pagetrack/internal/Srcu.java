package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small sleepable RCU, as KVM's {@code kvm->srcu} around {@code track_notifier_head}:
 * readers (notifier dispatch) take no lock and allocate nothing; a writer that unlinked
 * a notifier calls {@link #synchronize()} and returns only when no reader that could
 * have seen the notifier is still running, or still able to call anything it saw.
 *
 * <p>Readers: {@code idx = readLock(slot); read the notifier array; call; readUnlock(idx)}.
 * The array MUST be read after {@link #readLock}. {@code slot} is the caller's {@link CallSlot};
 * it only caches which {@link Reader} is the calling thread's.
 *
 * <p>Per-thread counts. Linux keeps an SRCU's reader counts per CPU ({@code srcu_struct}'s
 * {@code per_cpu_ref}, {@code c[2]}), so that a reader touches no cache line another CPU writes;
 * here a host thread plays the CPU. Each thread that reads gets a {@link Reader}, registered
 * once, that only it writes: {@link #readLock} adds one to its count of the current index with
 * one atomic add on its own line (the add is also the full fence the section needs before it
 * reads the array, Linux's {@code smp_mb()} B), and {@link #readUnlock} stores the count minus
 * one with a release store (no fence on x86). A single shared word before cost every dispatch
 * a second atomic add, and every vCPU's dispatch the same cache line (docs/benchmarks.md, "One
 * notifier: a reader count per thread"). The index returned names the reader and the epoch
 * index, {@code reader number * 2 + index}; a thread's sections nest (a notifier that writes
 * guest memory dispatches again) and always end on the thread that began them.
 *
 * <p>Abandoned readers. A reader stuck in a call that the watchdog has timed out (a callback
 * that ignores interrupts) would hold every writer forever, and with it the framework's bundle
 * stop. So the watchdog may {@link #abandon} such a reader: each reader keeps, per index, a
 * second word that counts its abandoned sections (low 32 bits) and every change of that count
 * (high 32 bits), and {@link #synchronize()} waits until, for every reader and the index, the
 * section count equals the abandoned count instead of until it is zero. The reader, when (if
 * ever) its call returns, un-counts itself with {@link #resume} before it calls anything else
 * and then leaves its read section and enters a new one, re-reading the array (the dispatch
 * loop's resync in {@link NotifierGuard}): it never calls a notifier from the array it read
 * before it was abandoned. What a writer gives up is exactly the abandoned call itself: if
 * it runs in the notifier being unlinked, that one call may still be running when
 * {@code synchronize()} returns (the caller reports it). Every other call is waited for.
 *
 * <p>Why it is correct. Per reader and index, r = the reader's sections between their
 * {@link #readLock} and {@link #readUnlock}, and a = the abandoned ones among them: the watchdog
 * adds to a only while the reader is inside a call of its section, which it cannot leave before
 * the watchdog is done (see {@link CallSlot}), the reader takes its abandonment back before it
 * leaves that section, and a section carries at most one abandonment at a time. So a &lt;= r at
 * every moment. Take a reader R that could call the unlinked notifier N: it read the array
 * before the writer's unlink. Its atomic add to r and its read of the array, and the writer's
 * unlink and its volatile reads of the readers and of r, are synchronization actions, totally
 * ordered consistently with each thread's program order; so R's add (and R's registration) came
 * before the writer's reads, and the writer sees R's reader and counts R's section in r. The
 * writer goes on from a reader only when it read the same abandoned word before and after
 * reading r, and r equal to its count: a did not change in between, and the r it read is the r
 * of that moment or a later one (a release store that it read orders everything the reader did
 * before it, including a {@link #resume}, before the writer's second read of a, which would then
 * differ). So at that moment r == a: R has either left (it is done) or is abandoned: it is inside
 * its abandoned call and will, on return, resume and re-read the array, which no longer holds N.
 * A reader whose add came after the writer's read of its r reads the array after the unlink and
 * cannot see N. So after {@code synchronize()} nothing calls N, and no call into N runs except an
 * abandoned one. (Reading the two words once each, in either order, is not enough: a nested
 * section that is abandoned, resumes and leaves between the two reads can make them equal while
 * the section around it still runs.)
 *
 * <p>Why it terminates. Before waiting on an index the writer flips {@link #epoch} so that new
 * sections count on the other one; only a thread that read the old epoch just before the flip
 * can still add to the drained index, once. Then it flips back and drains the other index the
 * same way (Linux's SRCU also waits on both indexes). A reader that neither returns nor is
 * abandoned (timeouts off) still holds the writer: a warning after 10 s says so. Writers are
 * serialized by a lock; readers never wait, except a thread's first section, which registers its
 * reader under a lock held only by other registrations (never by a writer's wait).
 *
 * <p>A reader whose thread has ended, with nothing counted, is handed to the next new thread,
 * so the registry holds no more readers than threads that read at once.
 */
final class Srcu {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    /** One abandoned section and one change, in an abandoned word. */
    private static final long ABANDON = (1L << 32) + 1;
    /** One abandonment taken back and one change. */
    private static final long RESUME = (1L << 32) - 1;
    private static final int SPINS = 256;
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long WARN_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * One thread's reader counts. {@code words} holds, per index {@code i}, the section count at
     * {@code PAD + i} (written by the owning thread only) and the abandoned word at
     * {@code PAD + 2 + i} (atomic adds by the watchdog and the owner), with a cache line of
     * padding on both sides, so that no other thread's counts share its line.
     */
    static final class Reader {
        private static final int PAD = 8;

        /** Its place in {@link #readers}, the high bits of an index. */
        final int no;
        /** The owning thread; changes only when a new thread takes over the reader of an ended one. */
        volatile Thread thread;
        final long[] words = new long[PAD + 4 + PAD];

        Reader(int no, Thread thread) {
            this.no = no;
            this.thread = thread;
        }

        long count(int i) {
            return (long) WORDS.getVolatile(words, PAD + i);
        }

        long abandonedWord(int i) {
            return (long) WORDS.getVolatile(words, PAD + 2 + i);
        }

        boolean idle() {
            return count(0) == 0 && count(1) == 0 && (int) abandonedWord(0) == 0 && (int) abandonedWord(1) == 0;
        }
    }

    /** Every reader, by number; copied on registration (rare). */
    private volatile Reader[] readers = new Reader[0];
    private final Object registry = new Object();
    private final ReentrantLock writers = new ReentrantLock();
    private final String what;
    private volatile int epoch;

    /** @param what names the protected list in a slow-wait warning, e.g. "notifiers of VM demo" */
    Srcu(String what) {
        this.what = what;
    }

    /**
     * {@code srcu_read_lock}: one atomic add to the calling thread's own count (the full fence).
     * Returns the index to hand back to {@link #readUnlock}, on this thread. {@code via} caches the
     * thread's reader: pass the same slot for a thread's sections where possible.
     */
    int readLock(CallSlot via) {
        Reader r = via.reader;
        if (r == null || r.thread != Thread.currentThread()) {
            r = readerOfCurrentThread();
            via.reader = r;
        }
        int i = epoch & 1;
        WORDS.getAndAdd(r.words, Reader.PAD + i, 1L);
        return r.no << 1 | i;
    }

    /** {@code srcu_read_unlock}: a release store of the thread's count minus one, on the thread that locked. */
    void readUnlock(int idx) {
        long[] w = readers[idx >>> 1].words;
        int at = Reader.PAD + (idx & 1);
        WORDS.setRelease(w, at, (long) WORDS.get(w, at) - 1);
    }

    /**
     * The watchdog gives up on a reader's section {@code idx} stuck in a timed-out call: writers
     * stop waiting for it. Only while that reader is inside the call (see {@link CallSlot}).
     */
    void abandon(int idx) {
        WORDS.getAndAdd(readers[idx >>> 1].words, Reader.PAD + 2 + (idx & 1), ABANDON);
    }

    /** The abandoned reader's call returned: its section counts again, until its {@link #readUnlock}. */
    void resume(int idx) {
        WORDS.getAndAdd(readers[idx >>> 1].words, Reader.PAD + 2 + (idx & 1), RESUME);
    }

    /** Sections abandoned now, over every reader and both indexes (tools and tests). */
    int abandoned() {
        int n = 0;
        for (Reader r : readers) {
            n += (int) r.abandonedWord(0) + (int) r.abandonedWord(1);
        }
        return n;
    }

    /** Readers registered (tests: they are reused, not accumulated). */
    int readerCount() {
        return readers.length;
    }

    /** The calling thread's reader: found, taken over from an ended thread, or new. */
    private Reader readerOfCurrentThread() {
        Thread me = Thread.currentThread();
        for (Reader r : readers) {
            if (r.thread == me) {
                return r;
            }
        }
        synchronized (registry) {
            Reader[] all = readers;
            for (Reader r : all) {
                Thread t = r.thread;
                if (!t.isAlive() && r.idle()) {
                    r.thread = me; // an ended thread has no section open
                    return r;
                }
            }
            Reader[] more = Arrays.copyOf(all, all.length + 1);
            Reader r = new Reader(all.length, me);
            more[all.length] = r;
            readers = more; // before this thread's first count: see "Why it is correct"
            return r;
        }
    }

    /**
     * {@code synchronize_srcu}: waits until every reader section that began before this call has
     * ended or is abandoned (see above). Call it after unlinking. Never call it from a reader (it
     * would wait for itself).
     */
    void synchronize() {
        writers.lock();
        try {
            int e = epoch;
            epoch = e ^ 1;
            drain(e & 1);
            epoch = e;
            drain((e ^ 1) & 1);
        } finally {
            writers.unlock();
        }
    }

    private void drain(int i) {
        boolean interrupted = false;
        boolean warned = false;
        long start = System.nanoTime();
        long park = 1_000;
        int spins = 0;
        for (Reader r : readers) { // read after the flip: see "Why it is correct"
            while (!drained(r, i)) {
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
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every section of {@code r} on index {@code i} is over or abandoned: its abandoned word unchanged around an equal count. */
    private static boolean drained(Reader r, int i) {
        long a = r.abandonedWord(i);
        long n = r.count(i);
        return n == (int) a && r.abandonedWord(i) == a;
    }
}
