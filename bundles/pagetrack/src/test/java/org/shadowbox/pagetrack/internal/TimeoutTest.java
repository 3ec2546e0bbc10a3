package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.Vm;

/**
 * The guard's timeout (Felix EventAdmin's deny-list for slow handlers): a notifier call that
 * does not return in time disables the notifier and interrupts the caller, which goes on; the
 * guard's clock and nanoTime sample account for time spent.
 */
class TimeoutTest {
    private final Rig rig = new Rig();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void close() {
        rig.core.close();
    }

    /** Blocks (interruptibly) until released, on every call after {@code free} free ones. */
    private static final class Hanger implements PageTrackNotifier {
        final CountDownLatch never = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger interrupted = new AtomicInteger();
        final int free;

        Hanger(int free) {
            this.free = free;
        }

        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
            if (calls.incrementAndGet() <= free) {
                return;
            }
            try {
                never.await();
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                Thread.currentThread().interrupt(); // as well-behaved code does; the guard clears it
            }
        }
    }

    private GuardRecord record(String bundle) {
        return rig.core.guardRecords().stream().filter(r -> r.bundle().equals(bundle)).findFirst().orElseThrow();
    }

    @Test
    @Timeout(20)
    void aHangingNotifierIsDisabledTheCallerGoesOnAndTheOthersStillGetTheWrite() {
        Vm vm = rig.pc("h");
        rig.core.setTimeoutMillis(200);
        rig.core.register(new Rig.Recorder("older", log), "good.older");
        Hanger hanger = new Hanger(1);
        rig.core.register(hanger, "bad.hanger");
        rig.core.register(new Rig.Recorder("newer", log), "good.newer");

        vm.vcpu(1).emulatorWritePhys(0x1000, 1, 8); // the hanger's free call
        long t0 = System.nanoTime();
        vm.vcpu(1).emulatorWritePhys(0x1008, 2, 8); // hangs, is timed out, goes on
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertFalse(Thread.currentThread().isInterrupted(), "the guard cleared the interrupt it made");
        assertTrue(ms >= 190 && ms < 5_000, "returned after the timeout, not before and not never: " + ms + " ms");
        assertEquals(1, hanger.interrupted.get());
        assertEquals(List.of("newer:write h vcpu1 0x1000=0x1/8", "older:write h vcpu1 0x1000=0x1/8",
                "newer:write h vcpu1 0x1008=0x2/8", "older:write h vcpu1 0x1008=0x2/8"), log,
                "notifiers before and after the hanging one got the write");

        GuardRecord r = record("bad.hanger");
        assertTrue(r.disabled());
        assertEquals(1, r.timeouts());
        assertEquals("did not return within 200 ms (vCPU 1 of VM h)", r.reason());
        assertTrue(r.lastError().startsWith("bundle bad.hanger: " + Hanger.class.getName() + " did not return within 200 ms"),
                r.lastError());
        assertEquals(0, r.running(), "the interrupted call has returned");
        NotifierInfo info = rig.core.notifiers(vm).stream().filter(i -> i.bundle().equals("bad.hanger")).findFirst().orElseThrow();
        assertTrue(info.disabled(), "track:notifiers shows it disabled too");

        vm.vcpu(0).emulatorWritePhys(0x1010, 3, 8);
        assertEquals(2, hanger.calls.get(), "a disabled notifier is not called again");
        assertEquals(6, log.size());
        rig.core.unregister(hanger); // returns at once: nothing runs in it
        assertFalse(record("good.newer").disabled());
    }

    @Test
    @Timeout(20)
    void everyVcpuStuckInItIsInterruptedAndCounted() throws Exception {
        Vm vm = rig.pc("two");
        rig.core.setTimeoutMillis(300);
        Hanger hanger = new Hanger(0);
        rig.core.register(hanger, "bad.hanger");
        CountDownLatch both = new CountDownLatch(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int v = 0; v < 2; v++) {
            int id = v;
            Thread t = new Thread(() -> {
                try {
                    vm.vcpu(id).emulatorWritePhys(0x2000 + 8 * id, id, 8);
                    if (Thread.currentThread().isInterrupted()) {
                        throw new AssertionError("vCPU " + id + " left interrupted");
                    }
                } catch (Throwable e) {
                    failure.set(e);
                } finally {
                    both.countDown();
                }
            });
            threads.add(t);
            t.start();
        }
        assertTrue(both.await(10, TimeUnit.SECONDS), "both vCPUs went on");
        assertNull(failure.get());
        GuardRecord r = record("bad.hanger");
        assertEquals(2, r.timeouts());
        assertEquals(2, hanger.interrupted.get());
        assertTrue(r.disabled());
        assertEquals(2, r.calls());
    }

    @Test
    @Timeout(20)
    void zeroTurnsTheTimeoutOffAndSlowCallsAreStillMeasured() {
        Vm vm = rig.pc("z");
        rig.core.setTimeoutMillis(0);
        PageTrackNotifier slow = (v, cpu, gpa, value, bytes) -> {
            try {
                Thread.sleep(120);
            } catch (InterruptedException e) {
                throw new AssertionError("interrupted though timeouts are off");
            }
        };
        rig.core.register(slow, "slow.bundle");
        vm.vcpu(0).emulatorWritePhys(0x3000, 1, 4);
        GuardRecord r = record("slow.bundle");
        assertFalse(r.disabled());
        assertEquals(0, r.timeouts());
        assertEquals(0, r.failures());
        assertEquals(1, r.slowCalls(), "a 120 ms call spans two or more 10 ms ticks");
        assertTrue(r.slowMillis() >= 90 && r.slowMillis() <= 1_000, "slow time in ticks: " + r.slowMillis());
        assertEquals(List.of("z"), r.vms());
    }

    @Test
    void oneCallInSixtyFourIsTimedAndTheEstimateCoversAllCalls() {
        Vm vm = rig.pc("f");
        rig.core.register(new Rig.Recorder("r", log), "fast.bundle");
        for (int i = 0; i < 640; i++) {
            vm.vcpu(i & 1).emulatorWritePhys(0x4000 + (i & 0xff), i, 1);
        }
        GuardRecord r = record("fast.bundle");
        assertEquals(640, r.calls());
        assertEquals(10, r.sampledCalls());
        assertTrue(r.sampledNanos() > 0);
        assertTrue(r.estimatedNanos() >= r.sampledNanos(), "the estimate extrapolates the sample");
        assertEquals(0, r.running());
    }

    @Test
    @Timeout(20)
    void theWatchdogRunsOnlyWhileNotifiersAreRegistered() throws Exception {
        assertFalse(rig.core.watchdogRunning());
        PageTrackNotifier n = (v, cpu, gpa, value, bytes) -> { };
        rig.core.register(n, "a.bundle");
        assertTrue(rig.core.watchdogRunning());
        rig.core.unregister(n);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (rig.core.watchdogRunning() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertFalse(rig.core.watchdogRunning(), "it ended after the last notifier left");
        rig.core.register(n, "a.bundle");
        assertTrue(rig.core.watchdogRunning(), "and starts again with the next");
    }

    @Test
    void theTimeoutRefusesNegativeValues() {
        rig.core.setTimeoutMillis(-5);
        assertEquals(NotifierGuard.DEFAULT_TIMEOUT_MILLIS, rig.core.timeoutMillis());
        rig.core.setTimeoutMillis(0);
        assertEquals(0, rig.core.timeoutMillis());
    }
}
