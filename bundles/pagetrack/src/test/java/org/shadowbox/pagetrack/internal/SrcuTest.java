package org.shadowbox.pagetrack.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Srcu} with per-thread reader counts, in the manner of Linux's rcutorture: readers on
 * several threads (sharing and swapping the slots that cache their readers, nesting sections,
 * threads ending and new ones taking over their readers) read a published object and check, at
 * the end of each section, that no writer has retired it; a writer publishes a new one, waits
 * for {@link Srcu#synchronize()} and retires the old. A reader that finds its object retired is
 * a reader the writer did not wait for. The seed is in every failure message: replay with
 * {@code -Dpagetrack.srcu.seed=N}.
 */
class SrcuTest {
    /** What readers read: retired by the writer only after synchronize() returned. */
    static final class Box {
        volatile boolean retired;
    }

    @Test
    @Timeout(60)
    void noReaderEverSeesItsObjectRetiredWhileItsSectionRuns() throws Exception {
        long seed = Long.getLong("pagetrack.srcu.seed", System.nanoTime());
        String tag = "seed " + seed + " (-Dpagetrack.srcu.seed=" + seed + "): ";
        Random seeds = new Random(seed);
        Srcu srcu = new Srcu("torture");
        CallSlot[] slots = {new CallSlot("s0", srcu), new CallSlot("s1", srcu)};
        AtomicReference<Box> current = new AtomicReference<>(new Box());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sections = new AtomicLong();
        AtomicLong violations = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            long mine = seeds.nextLong();
            int id = t;
            threads.add(new Thread(() -> {
                Random rnd = new Random(mine);
                while (!stop.get()) {
                    // a short-lived thread now and then: its reader is handed to the next new thread
                    int rounds = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(50) : Integer.MAX_VALUE;
                    Thread worker = new Thread(() -> {
                        for (int k = 0; k < rounds && !stop.get(); k++) {
                            section(srcu, slots[rnd.nextInt(slots.length)], current, rnd, 0, violations, first);
                            sections.incrementAndGet();
                        }
                    }, "reader-" + id);
                    worker.start();
                    try {
                        worker.join();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "reader-parent-" + id));
        }
        threads.forEach(Thread::start);
        int updates = 0;
        long end = System.nanoTime() + SECONDS.toNanos(2);
        try {
            while (System.nanoTime() < end && violations.get() == 0) {
                Box old = current.getAndSet(new Box());
                srcu.synchronize();
                old.retired = true;
                updates++;
            }
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
        assertEquals(0, violations.get(), tag + "readers saw their object retired inside their section: " + first.get());
        assertTrue(updates > 100 && sections.get() > 1_000, tag + "too little ran to mean anything: " + updates
                + " updates, " + sections.get() + " sections");
        assertTrue(srcu.readerCount() <= 3, tag + "readers of ended threads are reused: " + srcu.readerCount()
                + " registered for at most 3 reading threads at a time");
    }

    /** One read section, nested now and then (a notifier writing guest memory dispatches again). */
    private static void section(Srcu srcu, CallSlot slot, AtomicReference<Box> current, Random rnd, int depth,
            AtomicLong violations, AtomicReference<String> first) {
        int idx = srcu.readLock(slot);
        try {
            Box b = current.get(); // after readLock, as the dispatch reads its notifier array
            int work = rnd.nextInt(200);
            for (int i = 0; i < work; i++) {
                Thread.onSpinWait();
            }
            if (depth < 2 && rnd.nextInt(8) == 0) {
                section(srcu, slot, current, rnd, depth + 1, violations, first);
            }
            if (rnd.nextInt(64) == 0) {
                Thread.yield(); // off the core inside the section
            }
            if (b.retired) {
                violations.incrementAndGet();
                first.compareAndSet(null, Thread.currentThread().getName() + " at depth " + depth);
            }
        } finally {
            srcu.readUnlock(idx);
        }
    }

    @Test
    @Timeout(10)
    void anAbandonedNestedSectionDoesNotReleaseTheSectionAroundIt() throws Exception {
        Srcu srcu = new Srcu("test");
        CallSlot slot = new CallSlot("test", srcu);
        int outer = srcu.readLock(slot);
        int inner = srcu.readLock(slot);
        srcu.abandon(inner); // the watchdog, while the inner call runs
        CountDownLatch synced = synchronizing(srcu);
        assertFalse(synced.await(200, MILLISECONDS), "the outer section still runs");
        srcu.resume(inner);
        srcu.readUnlock(inner);
        assertFalse(synced.await(200, MILLISECONDS), "the outer section still runs after the inner one left");
        srcu.readUnlock(outer);
        assertTrue(synced.await(5, SECONDS), "both left: synchronize returns");
        assertEquals(0, srcu.abandoned());
    }

    /** {@link Srcu#synchronize()} on a thread of its own; the latch opens when it returns. */
    static CountDownLatch synchronizing(Srcu srcu) {
        CountDownLatch synced = new CountDownLatch(1);
        Thread writer = new Thread(() -> {
            srcu.synchronize();
            synced.countDown();
        }, "writer");
        writer.start();
        return synced;
    }

    @Test
    @Timeout(10)
    void aThreadThatEndedHandsItsReaderToTheNextOne() throws Exception {
        Srcu srcu = new Srcu("test");
        CallSlot slot = new CallSlot("test", srcu);
        for (int i = 0; i < 20; i++) {
            Thread t = new Thread(() -> srcu.readUnlock(srcu.readLock(slot)));
            t.start();
            t.join();
        }
        assertEquals(1, srcu.readerCount(), "one thread at a time, one reader");
        Thread held = new Thread(() -> {
            int idx = srcu.readLock(slot);
            srcu.readUnlock(idx);
            srcu.readLock(slot); // ends with a section open: its reader is never handed on
        });
        held.start();
        held.join();
        Thread next = new Thread(() -> srcu.readUnlock(srcu.readLock(slot)));
        next.start();
        next.join();
        assertEquals(2, srcu.readerCount(), "a reader with a section open stays its ended thread's");
    }
}
