package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * {@code guard.isolate}: an isolated notifier runs on a courier thread; one that spins ignoring
 * interrupts is timed out, disabled and left behind, and the vCPU goes on to the next notifiers.
 */
class IsolationTest {
    private final Rig rig = new Rig();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final List<Spinner> spinners = new ArrayList<>();

    @AfterEach
    void close() {
        spinners.forEach(s -> s.release = true);
        rig.core.close();
    }

    /** Spins, deaf to interrupts, on every call after {@code free} free ones, until released. */
    final class Spinner implements PageTrackNotifier {
        final CountDownLatch entered = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger returned = new AtomicInteger();
        final AtomicReference<Thread> thread = new AtomicReference<>();
        final int free;
        volatile boolean release;

        Spinner(int free) {
            this.free = free;
            spinners.add(this);
        }

        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
            thread.set(Thread.currentThread());
            if (calls.incrementAndGet() > free) {
                entered.countDown();
                while (!release) {
                    Thread.onSpinWait();
                }
            }
            returned.incrementAndGet();
        }
    }

    private GuardRecord record(String bundle) {
        return rig.core.guardRecords().stream().filter(r -> r.bundle().equals(bundle)).findFirst().orElseThrow();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    @Test
    @Timeout(30)
    void anIsolatedSpinnerIsAbandonedTheVcpuGoesOnAndTheOthersStillGetTheWrite() throws Exception {
        Vm vm = rig.pc("iso");
        rig.core.setTimeoutMillis(100);
        rig.core.setIsolate(List.of("*")); // all three: the older one needs a new courier after the spinner's
        rig.core.register(new Rig.Recorder("older", log), "good.older");
        Spinner spinner = new Spinner(1);
        rig.core.register(spinner, "bad.spinner");
        rig.core.register(new Rig.Recorder("newer", log), "good.newer");

        vm.vcpu(1).emulatorWritePhys(0x1000, 1, 8); // the spinner's free call, on its courier
        Thread courier = spinner.thread.get();
        assertNotEquals(Thread.currentThread(), courier, "an isolated notifier is not called on the vCPU thread");
        assertEquals("shadowbox-courier VM iso vCPU 1", courier.getName());
        assertTrue(courier.isDaemon());
        assertTrue(record("bad.spinner").isolated());

        long t0 = System.nanoTime();
        vm.vcpu(1).emulatorWritePhys(0x1008, 2, 8); // spins: timed out, left behind
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms >= 90 && ms < 5_000, "the vCPU went on after about the timeout: " + ms + " ms");
        assertFalse(Thread.currentThread().isInterrupted(), "the guard cleared the interrupt it made");
        assertEquals(List.of("newer:write iso vcpu1 0x1000=0x1/8", "older:write iso vcpu1 0x1000=0x1/8",
                "newer:write iso vcpu1 0x1008=0x2/8", "older:write iso vcpu1 0x1008=0x2/8"), log,
                "notifiers before and after the spinner got the write");

        GuardRecord r = record("bad.spinner");
        assertTrue(r.disabled());
        assertEquals(1, r.timeouts());
        assertEquals("did not return within 100 ms (vCPU 1 of VM iso)", r.reason());
        assertTrue(r.lastError().contains("its courier thread abandoned and the vCPU goes on"), r.lastError());
        assertEquals(1, r.abandoned(), "the courier spins on, counted");
        assertEquals(0, r.running(), "no vCPU is in it");
        assertTrue(courier.isAlive());
        assertEquals("shadowbox-courier VM iso vCPU 1 (abandoned in bundle bad.spinner)", courier.getName());

        vm.vcpu(1).emulatorWritePhys(0x1010, 3, 8);
        assertEquals(2, spinner.calls.get(), "disabled: not called again");
        assertEquals(6, log.size());
        rig.core.unregister(spinner); // the abandoned call is not waited for

        spinner.release = true;
        courier.join(10_000);
        assertFalse(courier.isAlive(), "the abandoned courier ends once its call returns");
        assertEquals(0, record("good.newer").abandoned());
    }

    @Test
    @Timeout(30)
    void isolatedCallsRunOnOneCourierPerVcpuAndFailuresAreStillContained() throws Exception {
        Vm vm = rig.pc("calls");
        rig.core.setIsolate(List.of("*"));
        List<String> threads = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger calls = new AtomicInteger();
        PageTrackNotifier n = (v, cpu, gpa, value, bytes) -> {
            threads.add(Thread.currentThread().getName());
            if (calls.incrementAndGet() % 2 == 0) {
                throw new IllegalStateException("bug " + value);
            }
        };
        rig.core.register(n, "third.party");
        for (int i = 0; i < 30; i++) {
            vm.vcpu(i & 1).emulatorWritePhys(0x2000 + 8 * i, i, 8); // never throws to the vCPU
        }
        GuardRecord r = record("third.party");
        assertTrue(r.isolated(), "* isolates a bundle that is not the sandbox's own");
        assertEquals(20, r.calls(), "disabled after 10 failures");
        assertEquals(10, r.failures());
        assertTrue(r.disabled());
        assertTrue(r.lastError().contains("java.lang.IllegalStateException: bug 19"), r.lastError());
        assertEquals(List.of("shadowbox-courier VM calls vCPU 0", "shadowbox-courier VM calls vCPU 1"),
                threads.stream().distinct().sorted().toList(), "one courier per vCPU");
        rig.core.unregister(n);
        rig.hv.destroyVm("calls");
        await("destroying the VM ends its idle couriers", () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("shadowbox-courier VM calls")));
    }

    @Test
    @Timeout(30)
    void aCallbackWritingGuestMemoryThroughItsVcpuIsCalledBackOnItsOwnCourier() {
        Vm vm = rig.pc("nested");
        rig.core.setIsolate(List.of("nested.tracker"));
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        PageTrackNotifier n = (v, cpu, gpa, value, bytes) -> {
            seen.add(Long.toHexString(gpa) + " on " + Thread.currentThread().getName());
            if (gpa == 0x3000) {
                v.vcpu(cpu).emulatorWritePhys(0x3008, value + 1, 8); // nested dispatch from the courier
            }
        };
        rig.core.register(n, "nested.tracker");
        vm.vcpu(0).emulatorWritePhys(0x3000, 1, 8);
        String courier = "shadowbox-courier VM nested vCPU 0";
        assertEquals(List.of("3000 on " + courier, "3008 on " + courier), seen,
                "the nested write is delivered on the same courier, not handed to itself");
        assertEquals(0, record("nested.tracker").failures());
    }

    @Test
    void theIsolateSettingNamesBundlesOrStarAndRefusesBadInputChangingNothing() {
        rig.core.setIsolate(List.of("a.b, c-d", " *"));
        assertEquals(List.of("a.b", "c-d", "*"), rig.core.isolate());
        PageTrackNotifier n = (v, cpu, gpa, value, bytes) -> { };
        PageTrackNotifier own = (v, cpu, gpa, value, bytes) -> { };
        rig.core.register(n, "x.y");
        rig.core.register(own, "org.shadowbox.writeflood");
        assertTrue(record("x.y").isolated());
        assertFalse(record("org.shadowbox.writeflood").isolated(), "* leaves the sandbox's own bundles direct");
        VmException e = assertThrows(VmException.class, () -> rig.core.setIsolate(List.of("ok.one,bad/name")));
        assertEquals("guard.isolate: 'bad/name' is not a bundle symbolic name: accepted symbolic names"
                + " (com.example.tracker) and *, separated by commas", e.getMessage());
        assertEquals(List.of("a.b", "c-d", "*"), rig.core.isolate(), "nothing changed");
        rig.core.setIsolate(List.of("org.shadowbox.writeflood"));
        assertFalse(record("x.y").isolated(), "a running notifier follows the new setting");
        assertTrue(record("org.shadowbox.writeflood").isolated(), "named, a sandbox bundle is isolated too");
        rig.core.setIsolate(List.of());
        assertEquals(List.of(), rig.core.isolate());
    }
}
