package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.spi.EmulatedWriteListener;

/**
 * {@link EmulationGate}: the checker ({@code betweenEmulatedWrites}) never looks between an
 * emulated write's store and the end of its notifiers; nested writes from a notifier (same vCPU,
 * other vCPU) go through while a checker waits; a vCPU driven from two threads (which the API
 * forbids) is serialized, its counts exact.
 */
class EmulationGateTest {
    private static final long GPA0 = 0x10_0000;
    private static final long GPA1 = 0x20_0000;

    /** Writers on vCPUs 0 and 1 and a checker thread; each check compares memory with what the notifiers saw. */
    @Test
    void theCheckerSeesEveryStoredWriteNotified() throws Exception {
        long seed = Long.getLong("shadowbox.seed", System.nanoTime());
        HypervisorImpl hv = new HypervisorImpl();
        AtomicLongArray notified = new AtomicLongArray(2); // the last value each vCPU's notifier saw
        hv.addWriteListener(new EmulatedWriteListener() {
            @Override
            public void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes) {
                Thread.onSpinWait(); // a little time between store and notification
                notified.set(vcpu.id(), value);
            }
        });
        Vm vm = hv.createVm(VmSpec.pc("gate", 16L << 20, 2));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> writers = new ArrayList<>();
        for (int id = 0; id < 2; id++) {
            int v = id;
            long gpa = v == 0 ? GPA0 : GPA1;
            Thread t = new Thread(() -> {
                Random r = new Random(seed + v);
                try {
                    while (!stop.get()) {
                        vm.vcpu(v).emulatorWritePhys(gpa, r.nextLong() | 1, 8);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "writer " + v);
            writers.add(t);
            t.start();
        }
        int checks = 0;
        int mismatches = 0;
        try {
            long end = System.nanoTime() + Duration.ofMillis(700).toNanos();
            while (System.nanoTime() < end || checks < 200) {
                int m = ((VmImpl) vm).betweenEmulatedWrites(() -> {
                    int bad = 0;
                    if (vm.memory().read(GPA0, 8) != notified.get(0)) {
                        bad++;
                    }
                    if (vm.memory().read(GPA1, 8) != notified.get(1)) {
                        bad++;
                    }
                    return bad;
                });
                mismatches += m;
                checks++;
            }
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join(10_000);
            }
        }
        assertEquals(null, failure.get(), "seed " + seed);
        assertEquals(0, mismatches, "seed " + seed + ": the checker looked between a store and its notifier");
        assertTrue(vm.stats().emulatedWrites() > 0, "seed " + seed);
    }

    /** A notifier that writes through its own vCPU and through another, while a checker is waiting, does not deadlock. */
    @Test
    void nestedWritesPassAWaitingChecker() {
        HypervisorImpl hv = new HypervisorImpl();
        CountDownLatch inNotifier = new CountDownLatch(1);
        CountDownLatch checkerWaiting = new CountDownLatch(1);
        AtomicLong nested = new AtomicLong();
        Vm[] holder = new Vm[1];
        hv.addWriteListener(new EmulatedWriteListener() {
            @Override
            public void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes) {
                if (gpa != GPA0) {
                    nested.incrementAndGet();
                    return;
                }
                inNotifier.countDown();
                try {
                    checkerWaiting.await();
                    Thread.sleep(50); // the checker is now inside between(), waiting for this section
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                holder[0].vcpu(0).emulatorWritePhys(GPA1, 1, 8); // same vCPU
                holder[0].vcpu(1).emulatorWritePhys(GPA1 + 8, 2, 8); // another vCPU of the VM
            }
        });
        Vm vm = hv.createVm(VmSpec.pc("nest", 16L << 20, 2));
        holder[0] = vm;
        assertTimeoutPreemptively(Duration.ofSeconds(4), () -> {
            Thread w = new Thread(() -> vm.vcpu(0).emulatorWritePhys(GPA0, 7, 8), "outer writer");
            w.start();
            inNotifier.await();
            Thread checker = new Thread(() -> {
                checkerWaiting.countDown();
                ((VmImpl) vm).betweenEmulatedWrites(() -> null);
            }, "checker");
            checker.start();
            w.join();
            checker.join();
        });
        assertEquals(2, nested.get());
        assertEquals(3, vm.stats().emulatedWrites());
    }

    /**
     * Two threads driving one vCPU (the API forbids it): the second enters as a guest of the
     * section beside the holder, neither waits for the other, no write is lost from the count,
     * and a checker still sees every stored write notified.
     */
    @Test
    void twoThreadsOnOneVcpuAreCountedExactly() throws Exception {
        HypervisorImpl hv = new HypervisorImpl();
        AtomicLongArray notified = new AtomicLongArray(2);
        hv.addWriteListener(new EmulatedWriteListener() {
            @Override
            public void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes) {
                notified.set((int) ((gpa - GPA0) / 64), value);
            }
        });
        Vm vm = hv.createVm(VmSpec.pc("two", 16L << 20, 1));
        int perThread = 20_000;
        Thread[] ts = new Thread[2];
        for (int i = 0; i < 2; i++) {
            long gpa = GPA0 + 64L * i;
            ts[i] = new Thread(() -> {
                for (int k = 1; k <= perThread; k++) {
                    vm.vcpu(0).emulatorWritePhys(gpa, k, 8);
                }
            });
            ts[i].start();
        }
        int mismatches = 0;
        while (ts[0].isAlive() || ts[1].isAlive()) {
            mismatches += ((VmImpl) vm).betweenEmulatedWrites(() ->
                    (vm.memory().read(GPA0, 8) != notified.get(0) ? 1 : 0)
                            + (vm.memory().read(GPA0 + 64, 8) != notified.get(1) ? 1 : 0));
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(0, mismatches, "the checker looked between a store and its notifier");
        assertEquals(2L * perThread, vm.stats().emulatedWrites());
    }
}
