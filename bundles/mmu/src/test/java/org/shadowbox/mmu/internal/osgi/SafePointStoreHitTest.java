package org.shadowbox.mmu.internal.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * Through the component, as {@code mmu:check} gets there: while a TDP check holds the vCPUs
 * ({@code kvm_lock_all_vcpus}, {@link VmMmu#atSafePoint}), a vCPU thread whose stores hit the
 * TLB (and so take no mutex) changes no guest memory, and it goes on once the check is over.
 * Fails if the adapter's safe point stops taking only the mutex ({@code ResultCpu.lockSafePoint}
 * must also hold the store hits).
 */
class SafePointStoreHitTest {
    private final Rig rig = new Rig();

    @AfterEach
    void stop() {
        rig.stop();
    }

    @Test
    void aTdpSafePointKeepsStoreHitsOutAndLetsThemGoOnAfter() throws Exception {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("held", VmSpec.MMU, "tdp");
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.write(0x400000, 1, 8, true), "fills the TLB");
        long gpa = Rig.DATA << 12;
        AtomicLong stores = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread vcpu = new Thread(() -> {
            try {
                for (long n = 2; !stop.get(); n++) {
                    if (!cpu.write(0x400000, n, 8, true)) {
                        throw new AssertionError("store " + n + " failed");
                    }
                    stores.incrementAndGet();
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "vcpu0");
        vcpu.start();
        try {
            VmMmu<?> e = ((MmuComponent) mmu).entry(vm);
            for (int round = 0; round < 20; round++) {
                long before = stores.get();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (stores.get() < before + 100 && System.nanoTime() < deadline && failed.get() == null) {
                    Thread.onSpinWait();
                }
                assertTrue(stores.get() >= before + 100, "round " + round + ": the vCPU did not go on after the check");
                int r = round;
                List<String> still = e.atSafePoint(() -> {
                    long first = vm.memory().read(gpa, 8);
                    for (int k = 0; k < 20_000; k++) {
                        long now = vm.memory().read(gpa, 8);
                        if (now != first) {
                            return List.of("round " + r + ": guest memory went from " + first + " to " + now
                                    + " while the vCPUs were held");
                        }
                    }
                    return List.of();
                });
                assertEquals(List.of(), still);
            }
        } finally {
            stop.set(true);
            vcpu.join();
        }
        if (failed.get() != null) {
            throw new AssertionError(failed.get());
        }
        assertEquals(List.of(), mmu.check(vm));
    }
}
