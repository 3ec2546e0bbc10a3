package org.shadowbox.pagetrack.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/** KVM's SRCU guarantee: unregister returns only when no call into the notifier runs; none comes after. */
class UnregisterWaitsTest {
    private final Rig rig = new Rig();

    @Test
    @Timeout(30)
    void unregisterWaitsForTheCallInFlightAndNothingCallsAfterwards() throws Exception {
        Vm vm = rig.pc("u");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        PageTrackNotifier blocking = (v, cpu, gpa, value, bytes) -> {
            if (calls.incrementAndGet() == 1) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        rig.core.register(blocking, "blocker");
        Thread vcpu0 = new Thread(() -> vm.vcpu(0).emulatorWritePhys(0x1000, 1, 1), "vcpu0");
        vcpu0.start();
        assertTrue(entered.await(10, SECONDS), "the write reached the notifier");

        CountDownLatch unregistered = new CountDownLatch(1);
        Thread unregistering = new Thread(() -> {
            rig.core.unregister(blocking);
            unregistered.countDown();
        }, "unregister");
        unregistering.start();
        assertFalse(unregistered.await(300, MILLISECONDS), "unregister returned while trackWrite was running");
        unregistering.interrupt(); // an interrupt does not cut the wait short
        assertFalse(unregistered.await(100, MILLISECONDS), "unregister returned on interrupt");

        // Already unlinked: a write from another vCPU no longer reaches it, and does not block.
        vm.vcpu(1).emulatorWritePhys(0x2000, 2, 1);
        assertEquals(1, calls.get());

        release.countDown();
        assertTrue(unregistered.await(10, SECONDS), "unregister returns once the call is over");
        vcpu0.join();
        unregistering.join();
        vm.vcpu(0).emulatorWritePhys(0x1000, 3, 1);
        vm.deleteSlot(1);
        assertEquals(1, calls.get(), "never called after unregister returned");
    }

    @Test
    @Timeout(60)
    void noCallRunsOrStartsAfterUnregisterReturnsUnderConcurrentWrites() throws Exception {
        Vm vm = rig.pc("stress");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        AtomicLong delivered = new AtomicLong();
        Thread[] vcpus = new Thread[2];
        for (int c = 0; c < vcpus.length; c++) {
            int id = c;
            vcpus[c] = new Thread(() -> {
                long i = 0;
                while (!stop.get()) {
                    vm.vcpu(id).emulatorWritePhys(0x1000 + (i++ & 0xff) * 8, i, 8);
                }
            }, "vcpu" + c);
            vcpus[c].start();
        }
        try {
            for (int round = 0; round < 300; round++) {
                AtomicBoolean gone = new AtomicBoolean();
                PageTrackNotifier n = (v, cpu, gpa, value, bytes) -> {
                    if (gone.get()) {
                        violations.incrementAndGet(); // started after unregister returned
                    }
                    for (int s = 0; s < 50; s++) {
                        Thread.onSpinWait();
                    }
                    delivered.incrementAndGet();
                    if (gone.get()) {
                        violations.incrementAndGet(); // still running when unregister returned
                    }
                };
                rig.core.register(n, "round" + round);
                Thread.yield();
                rig.core.unregister(n);
                gone.set(true);
            }
        } finally {
            stop.set(true);
            for (Thread t : vcpus) {
                t.join();
            }
        }
        assertEquals(0, violations.get(), "calls after or across unregister");
        assertTrue(delivered.get() > 0, "the notifiers were actually called");
    }

    @Test
    @Timeout(10)
    void synchronizeWithNoReadersReturnsAndReadersNeverBlock() {
        Srcu srcu = new Srcu("test");
        CallSlot slot = new CallSlot("test", srcu);
        int idx = srcu.readLock(slot);
        int nested = srcu.readLock(slot);
        srcu.readUnlock(nested);
        srcu.readUnlock(idx);
        srcu.synchronize();
        srcu.synchronize();
        int after = srcu.readLock(slot);
        srcu.readUnlock(after);
        srcu.synchronize();
    }
}
