package org.shadowbox.mmu.internal.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

/**
 * {@code vcpu->mutex}: mutual exclusion, reentrancy, and the checker's turn at the vCPU's next
 * point between two accesses.
 */
class VcpuMutexTest {
    private long counter;

    @Test
    void contendedIncrementsUnderTheMutexAreNeverLost() throws Exception {
        VcpuMutex m = new VcpuMutex();
        int threads = 3;
        int each = 200_000;
        CountDownLatch go = new CountDownLatch(1);
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int me = t;
            ts[t] = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        if (me == 0 && i % 1000 == 0) {
                            assertTrue(m.tryLock(10, TimeUnit.SECONDS)); // a checker among vCPU threads
                        } else {
                            m.lock();
                        }
                        try {
                            counter++; // a plain field: only the mutex makes this safe
                        } finally {
                            m.unlock();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            ts[t].start();
        }
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        assertEquals((long) threads * each, counter);
        assertFalse(m.isLocked());
    }

    @Test
    void itIsReentrantAndOnlyTheHolderReleasesIt() throws Exception {
        VcpuMutex m = new VcpuMutex();
        assertThrows(IllegalMonitorStateException.class, m::unlock, "released while free");
        m.lock();
        m.lock();
        assertTrue(m.tryLock(1, TimeUnit.MILLISECONDS), "the holder takes it again");
        AtomicReference<Object> other = new AtomicReference<>();
        Thread t = new Thread(() -> {
            other.set(assertThrows(IllegalMonitorStateException.class, m::unlock));
            try {
                other.set(m.tryLock(20, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                other.set(e);
            }
        });
        t.start();
        t.join();
        assertEquals(Boolean.FALSE, other.get(), "another thread got a held mutex");
        m.unlock();
        m.unlock();
        assertTrue(m.isLocked(), "still held once");
        m.unlock();
        assertFalse(m.isLocked());
    }

    /**
     * The vCPU's thread lets the mutex go while a checker waits for it and asks for it again at
     * once: the checker must get it first (a plain compare-and-set lock lets the vCPU's thread
     * win, nanoseconds after its own release, nearly every time).
     */
    @Test
    void aWaitingCheckerGetsItAtTheVcpusNextSafePoint() throws Exception {
        for (int trial = 0; trial < 20; trial++) {
            VcpuMutex m = new VcpuMutex();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch checkerWaits = new CountDownLatch(1);
            AtomicBoolean checkerHadIt = new AtomicBoolean();
            AtomicReference<Boolean> vcpuSawChecker = new AtomicReference<>();
            Thread vcpu = new Thread(() -> {
                m.lock();
                held.countDown();
                try {
                    checkerWaits.await();
                } catch (InterruptedException e) {
                    return;
                }
                m.unlock();
                m.lock(); // the next access
                vcpuSawChecker.set(checkerHadIt.get());
                m.unlock();
            });
            Thread checker = new Thread(() -> {
                try {
                    held.await();
                    if (m.tryLock(10, TimeUnit.SECONDS)) {
                        checkerHadIt.set(true);
                        m.unlock();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            vcpu.start();
            checker.start();
            held.await();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (LockSupport.getBlocker(checker) != m && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // the checker has announced itself and waits
            }
            checkerWaits.countDown();
            vcpu.join();
            checker.join();
            assertTrue(checkerHadIt.get(), "trial " + trial + ": the checker never got the mutex");
            assertEquals(Boolean.TRUE, vcpuSawChecker.get(), "trial " + trial
                    + ": the vCPU took the mutex again before the waiting checker had it");
        }
    }

    @Test
    void aCheckerThatTimesOutLeavesTheVcpuFree() throws Exception {
        VcpuMutex m = new VcpuMutex();
        m.lock();
        AtomicReference<Boolean> got = new AtomicReference<>();
        Thread checker = new Thread(() -> {
            try {
                got.set(m.tryLock(30, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        checker.start();
        checker.join();
        assertEquals(Boolean.FALSE, got.get(), "the checker got a held mutex");
        m.unlock();
        m.lock(); // would wait for ever if the checker's announcement had stayed
        m.unlock();
        assertFalse(m.isLocked());
    }
}
