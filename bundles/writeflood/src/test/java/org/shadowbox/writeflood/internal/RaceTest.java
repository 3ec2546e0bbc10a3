package org.shadowbox.writeflood.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.writeflood.internal.FloodRig.LEAF;
import static org.shadowbox.writeflood.internal.FloodRig.PT;
import static org.shadowbox.writeflood.internal.FloodRig.gpa;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/**
 * KVM's 2018 race ("kvm: mmu: fix race in emulated page table writes"): vCPU 0 writes a gpte,
 * vCPU 1 writes the same gpte, and vCPU 1's notification is handled before vCPU 0's. Since the
 * handler reads the gpte from memory under the MMU lock, the spte ends as the gpte in memory,
 * not as the older bytes vCPU 0's notification carries. Deterministic: a gate notifier, called
 * first, holds vCPU 0's delivery until vCPU 1's write has been handled.
 */
class RaceTest {
    private static final long A = 0x201, B = 0x202;

    @Test
    void theLaterWriteWinsWhateverOrderTheNotificationsComeIn() throws Exception {
        FloodRig rig = new FloodRig();
        rig.shadow();
        assertTrue(rig.cpu(1).read(FloodRig.GVA, 8, false, rig.r).ok()); // vCPU 1 has run: its MMU context is set
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        rig.core.register(new PageTrackNotifier() { // newest: called before the MMU's
            @Override
            public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
                if (vcpuId == 0) {
                    held.countDown();
                    try {
                        release.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }, "test.gate", rig.vm.name());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread vcpu0 = new Thread(() -> {
            try {
                rig.emulate(0, gpa(PT, 0), (A << 12) | LEAF, 8);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        vcpu0.start();
        assertTrue(held.await(5, TimeUnit.SECONDS), "vCPU 0's write is in memory, its notification held");
        rig.emulate(1, gpa(PT, 0), (B << 12) | LEAF, 8);
        long pfnB = rig.vm.slotForGfn(B).hostFrame(B);
        assertEquals(pfnB, Spte.pfn(rig.page(PT).spte(0)), "vCPU 1's write handled");
        release.countDown();
        vcpu0.join(5000);
        assertFalse(vcpu0.isAlive());
        assertEquals(null, failure.get());
        assertEquals((B << 12) | LEAF, rig.mem.read(gpa(PT, 0), 8), "memory holds vCPU 1's gpte");
        assertEquals(pfnB, Spte.pfn(rig.page(PT).spte(0)), "and so does the spte, after vCPU 0's late notification");
        assertEquals(2, rig.stat("mmu_pte_updated"));
        rig.assertConsistent("after the race");
    }
}
