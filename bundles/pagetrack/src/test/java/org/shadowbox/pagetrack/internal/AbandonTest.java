package org.shadowbox.pagetrack.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.Vm;

/**
 * Abandoned calls (see {@link Srcu}): unregister does not wait for a call the watchdog timed out
 * and that never returns, so a stuck tracker can still be stopped; it still waits for every
 * other call, and a vCPU that comes back from an abandoned call calls nothing unregistered since.
 */
class AbandonTest {
    private final Rig rig = new Rig();
    private final AtomicBoolean release = new AtomicBoolean();

    @AfterEach
    void close() {
        release.set(true);
        rig.core.close();
    }

    private GuardRecord record(String bundle) {
        return rig.core.guardRecords().stream().filter(r -> r.bundle().equals(bundle)).findFirst().orElseThrow();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    @Test
    @Timeout(30)
    void unregisterReturnsDespiteADirectCallThatWasTimedOutAndNeverReturns() throws Exception {
        Vm vm = rig.pc("stuck");
        rig.core.setTimeoutMillis(100);
        Rig.Recorder older = new Rig.Recorder("older");
        Rig.Recorder victim = new Rig.Recorder("victim");
        CountDownLatch entered = new CountDownLatch(1);
        PageTrackNotifier spinner = (v, cpu, gpa, value, bytes) -> {
            entered.countDown();
            while (!release.get()) {
                Thread.onSpinWait(); // deaf to interrupts
            }
        };
        rig.core.register(older, "z.older");
        rig.core.register(victim, "y.victim");
        rig.core.register(spinner, "x.spinner"); // newest: called first

        AtomicBoolean leftInterrupted = new AtomicBoolean(true);
        Thread vcpu = new Thread(() -> {
            vm.vcpu(0).emulatorWritePhys(0x1000, 7, 8);
            leftInterrupted.set(Thread.currentThread().isInterrupted());
        }, "vcpu0-stuck");
        vcpu.start();
        assertTrue(entered.await(10, SECONDS));
        await("the watchdog abandons the call", () -> record("x.spinner").abandoned() == 1);
        GuardRecord r = record("x.spinner");
        assertTrue(r.disabled());
        assertEquals(1, r.running(), "the vCPU is still inside it");
        assertEquals(1, rig.core.state(vm).srcu.abandoned());

        Thread unregister = new Thread(() -> rig.core.unregister(spinner), "unregister-spinner");
        unregister.start();
        unregister.join(10_000);
        assertFalse(unregister.isAlive(), "unregister did not wait for the abandoned call");
        rig.core.unregister(victim); // nor for a notifier the stuck vCPU has not reached yet
        assertTrue(vcpu.isAlive(), "the direct call still holds its vCPU thread");

        release.set(true);
        vcpu.join(10_000);
        assertFalse(vcpu.isAlive(), "the vCPU goes on once the call returns");
        assertFalse(leftInterrupted.get(), "the guard cleared the interrupt it made");
        assertEquals(List.of(), victim.log, "never called after its unregister returned");
        assertEquals(List.of("older:write stuck vcpu0 0x1000=0x7/8"), older.log,
                "a notifier still registered gets the write when the vCPU comes back");
        assertEquals(0, rig.core.state(vm).srcu.abandoned(), "the abandonment was taken back");
        rig.core.unregister(older); // and the SRCU counts are balanced: this returns at once
    }

    @ParameterizedTest(name = "isolated={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(30)
    void unregisterStillWaitsForASlowCallThatReturns(boolean isolated) throws Exception {
        Vm vm = rig.pc("slow");
        rig.core.setTimeoutMillis(10_000);
        rig.core.setIsolate(isolated ? List.of("slow.tracker") : List.of());
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger after = new AtomicInteger();
        AtomicBoolean unregistered = new AtomicBoolean();
        PageTrackNotifier slow = (v, cpu, gpa, value, bytes) -> {
            if (unregistered.get()) {
                after.incrementAndGet();
            }
            calls.incrementAndGet();
            entered.countDown();
            try {
                proceed.await();
            } catch (InterruptedException e) {
                throw new AssertionError("interrupted before the timeout");
            }
            if (unregistered.get()) {
                after.incrementAndGet();
            }
        };
        rig.core.register(slow, "slow.tracker");
        assertEquals(isolated, record("slow.tracker").isolated());
        Thread vcpu = new Thread(() -> vm.vcpu(0).emulatorWritePhys(0x1000, 1, 8), "vcpu0-slow");
        vcpu.start();
        assertTrue(entered.await(10, SECONDS));
        CountDownLatch done = new CountDownLatch(1);
        Thread unregister = new Thread(() -> {
            rig.core.unregister(slow);
            unregistered.set(true);
            done.countDown();
        }, "unregister-slow");
        unregister.start();
        assertFalse(done.await(300, MILLISECONDS), "unregister returned while the call was running");
        proceed.countDown();
        assertTrue(done.await(10, SECONDS), "unregister returns once the call is over");
        vcpu.join(10_000);
        vm.vcpu(1).emulatorWritePhys(0x1000, 2, 8);
        assertEquals(1, calls.get(), "never called after unregister returned");
        assertEquals(0, after.get(), "no call ran across or after unregister's return");
    }

    @Test
    @Timeout(10)
    void synchronizeSkipsAnAbandonedReaderUntilItResumes() throws Exception {
        Srcu srcu = new Srcu("test");
        int idx = srcu.readLock(new CallSlot("test", srcu));
        srcu.abandon(idx);
        srcu.synchronize(); // returns: its only reader is abandoned
        assertEquals(1, srcu.abandoned());
        srcu.resume(idx);
        CountDownLatch synced = SrcuTest.synchronizing(srcu);
        assertFalse(synced.await(200, MILLISECONDS), "a resumed reader is waited for again");
        srcu.readUnlock(idx);
        assertTrue(synced.await(5, TimeUnit.SECONDS));
        assertEquals(0, srcu.abandoned());
    }
}
