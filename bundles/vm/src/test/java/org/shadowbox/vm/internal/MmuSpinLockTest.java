package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

/**
 * The spinning mmu_lock is a mutual-exclusion lock (CAS to take, release store to give back, as
 * KVM's {@code spin_lock}/{@code spin_unlock}), not reentrant, that sleeps when spinning does
 * not pay.
 */
class MmuSpinLockTest {

    private long counter;
    /** Written only inside the lock's sections: the seeded stress's shared state. */
    private long shared;
    private long sharedCheck;

    @Test
    void contendedIncrementsUnderTheLockAreNeverLost() throws Exception {
        MmuSpinLock lock = new MmuSpinLock();
        int threads = 3;
        int each = 200_000;
        CountDownLatch go = new CountDownLatch(1);
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    lock.lock();
                    try {
                        counter++; // a plain field: only the lock makes this safe
                    } finally {
                        lock.unlock();
                    }
                }
            });
            ts[t].start();
        }
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        assertEquals((long) threads * each, counter);
        assertFalse(lock.isLocked());
    }

    /**
     * Two threads, seeded sections of random length: each reads two plain fields, waits a random
     * number of spins with the values in hand, and writes both back changed. Any overlap of two
     * sections (a broken exclusion, or a release store the next holder's CAS does not order
     * after) loses an update or leaves the pair inconsistent; the reference count is what the
     * threads added. The seed is printed on failure.
     */
    @Test
    void seededSectionsOfTwoThreadsNeverOverlap() throws Exception {
        long seed = Long.getLong("shadowbox.seed", System.nanoTime());
        MmuSpinLock lock = new MmuSpinLock();
        int each = 100_000;
        long[] added = new long[2];
        long[] torn = new long[2];
        CountDownLatch go = new CountDownLatch(1);
        Thread[] ts = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int me = t;
            ts[t] = new Thread(() -> {
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed + me);
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    int by = 1 + rnd.nextInt(3);
                    int spins = rnd.nextInt(16);
                    lock.lock();
                    try {
                        long a = shared;
                        long b = sharedCheck;
                        for (int s = 0; s < spins; s++) {
                            Thread.onSpinWait(); // the values are in hand: another holder now would be lost
                        }
                        if (b != -a) {
                            torn[me]++;
                        }
                        shared = a + by;
                        sharedCheck = -(a + by);
                    } finally {
                        lock.unlock();
                    }
                    added[me] += by;
                    if (rnd.nextInt(8) == 0) {
                        Thread.yield(); // let the other thread take it while this one is outside
                    }
                }
            }, "stress-" + t);
            ts[t].start();
        }
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(added[0] + added[1], shared, "updates lost under the lock; replay with -Dshadowbox.seed=" + seed);
        assertEquals(0, torn[0] + torn[1], "a section saw another's half-done write; replay with -Dshadowbox.seed=" + seed);
        assertFalse(lock.isLocked());
    }

    @Test
    void onlyTheHolderReleasesIt() throws Exception {
        MmuSpinLock lock = new MmuSpinLock();
        assertThrows(IllegalMonitorStateException.class, lock::unlock, "released while free");
        lock.lock();
        assertTrue(lock.isHeldByCurrentThread());
        AtomicReference<Throwable> other = new AtomicReference<>();
        Thread t = new Thread(() -> {
            other.set(assertThrows(IllegalMonitorStateException.class, lock::unlock));
            assertFalse(lock.isHeldByCurrentThread());
            assertFalse(lock.tryLock(), "taken while held");
        });
        t.start();
        t.join();
        assertTrue(other.get() instanceof IllegalMonitorStateException);
        assertTrue(lock.isLocked(), "a non-holder's unlock changed nothing");
        lock.unlock();
        assertFalse(lock.isLocked());
        assertEquals(0, lock.getHoldCount());
        assertThrows(UnsupportedOperationException.class, lock::newCondition);
    }

    @Test
    void anInterruptedWaiterStillWaitsAndKeepsItsInterrupt() throws Exception {
        MmuSpinLock lock = new MmuSpinLock();
        lock.lock();
        CountDownLatch acquired = new CountDownLatch(1);
        AtomicReference<Boolean> interruptKept = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            lock.lock();
            try {
                interruptKept.set(Thread.currentThread().isInterrupted());
                acquired.countDown();
            } finally {
                lock.unlock();
            }
        });
        waiter.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (LockSupport.getBlocker(waiter) != lock && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        waiter.interrupt();
        assertFalse(acquired.await(100, TimeUnit.MILLISECONDS), "the interrupt let the waiter into a held lock");
        lock.unlock();
        assertTrue(acquired.await(10, TimeUnit.SECONDS));
        waiter.join();
        assertTrue(interruptKept.get(), "lock() is not interruptible but keeps the interrupt");
        assertTrue(lock.tryLock(1, TimeUnit.MILLISECONDS));
        lock.unlock();
    }

    @Test
    void takingItAgainOnTheHoldingThreadFailsWithAssertionsOn() {
        MmuSpinLock lock = new MmuSpinLock();
        lock.lock();
        AssertionError e = assertThrows(AssertionError.class, lock::lock);
        assertTrue(e.getMessage().contains("not reentrant"), e.getMessage());
        assertEquals(1, lock.getHoldCount(), "the refused acquisition changed nothing");
        lock.unlock();
        assertFalse(lock.isLocked());
    }

    @Test
    void aWaiterSleepsUntilTheHolderLetsGo() throws Exception {
        MmuSpinLock lock = new MmuSpinLock();
        lock.lock();
        CountDownLatch acquired = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            lock.lock();
            try {
                acquired.countDown();
            } finally {
                lock.unlock();
            }
        });
        waiter.start();
        // Long past the spin: the waiter must now be sleeping between tries, not holding the lock.
        assertFalse(acquired.await(200, TimeUnit.MILLISECONDS), "the waiter got a held lock");
        assertTrue(LockSupport.getBlocker(waiter) == lock, "the waiter waits in lock()");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (waiter.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // it wakes between tries: catch it asleep
        }
        assertEquals(Thread.State.TIMED_WAITING, waiter.getState(), "after its spins the waiter sleeps");
        lock.unlock();
        assertTrue(acquired.await(10, TimeUnit.SECONDS), "the waiter runs once the lock is free");
        waiter.join();
    }
}
