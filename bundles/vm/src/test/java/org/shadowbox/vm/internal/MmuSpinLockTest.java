package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The spinning mmu_lock is a mutual-exclusion lock, not reentrant (as KVM's), that parks when spinning does not pay. */
class MmuSpinLockTest {

    private long counter;

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
    void aWaiterParksUntilTheHolderLetsGo() throws Exception {
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
        // Long past the spin: the waiter must now be parked in the queue, not holding the lock.
        assertFalse(acquired.await(200, TimeUnit.MILLISECONDS), "the waiter got a held lock");
        assertTrue(lock.hasQueuedThread(waiter), "after its spins the waiter parks as a ReentrantLock's does");
        lock.unlock();
        assertTrue(acquired.await(10, TimeUnit.SECONDS), "the waiter runs once the lock is free");
        waiter.join();
    }
}
