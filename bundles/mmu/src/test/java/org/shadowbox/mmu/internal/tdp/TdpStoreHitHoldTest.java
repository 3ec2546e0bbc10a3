package org.shadowbox.mmu.internal.tdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.shadow.GuestBytes;
import org.shadowbox.mmu.internal.shadow.VcpuMode;
import org.shadowbox.vm.Register;

/**
 * A TDP store that hits the TLB takes no vCPU mutex; a checker that holds the vCPU ({@link
 * TdpVcpu#holdStoreHits}, after taking the mutex) must still never see one half done, nor one
 * begin while it holds. The first test puts a store hit in the middle of its flight by hand
 * (in guest mode, its request check passed, its bytes not yet stored) and requires the hold to
 * wait until the bytes have landed; the second runs store hits on another thread and requires
 * guest memory to stay still for as long as the hold lasts, and the stores to resume after it.
 */
class TdpStoreHitHoldTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    private static final long DIRTY = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;

    private final TdpRig rig = new TdpRig("64");
    private final TdpVcpu cpu = rig.cpu(0);

    TdpStoreHitHoldTest() {
        rig.mem.write(PML4 << 12, (PDPT << 12) | DIRTY, 8);
        rig.mem.write(PDPT << 12, (PD << 12) | DIRTY, 8);
        rig.mem.write((PD << 12) + 16, (PT << 12) | DIRTY, 8);
        rig.mem.write(PT << 12, (DATA << 12) | DIRTY, 8);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        AccessResult r = new AccessResult();
        assertTrue(cpu.write(GVA, 1, 8, true, r).ok(), "the first store fills the TLB");
        assertTrue(cpu.storeHit(GVA, 2, 8, Pfec.WRITE | Pfec.USER, r), "the second one hits it");
        assertEquals(2, rig.mem.read(DATA << 12, 8));
    }

    @Test
    void aHoldWaitsForAStoreHitInFlightToLand() throws Exception {
        // The vCPU's side of a store hit, stopped where its translation is checked and its bytes
        // are not yet stored: in guest mode, after the request check.
        assertTrue(VcpuMode.enterGuestMode(cpu.requests), "no request pending: the store may go ahead");
        CountDownLatch held = new CountDownLatch(1);
        long[] seen = new long[1];
        Thread checker = new Thread(() -> {
            cpu.holdStoreHits();
            seen[0] = rig.mem.read(DATA << 12, 8); // what a check would read now
            held.countDown();
        }, "checker");
        checker.start();
        assertFalse(held.await(200, TimeUnit.MILLISECONDS), "the hold returned while a store hit was in flight");
        byte[] page = cpu.tlb.page(cpu.tlb.lookup(GVA >>> 12));
        GuestBytes.store(page, 0, 0x5555, 8); // the store lands ...
        VcpuMode.exitGuestMode(cpu.requests); // ... and the vCPU leaves guest mode
        assertTrue(held.await(10, TimeUnit.SECONDS), "the hold never returned");
        checker.join();
        assertEquals(0x5555, seen[0], "the checker saw the store half done");

        AccessResult r = new AccessResult();
        assertFalse(cpu.storeHit(GVA, 7, 8, Pfec.WRITE | Pfec.USER, r), "a store hit began while the vCPU was held");
        assertEquals(0x5555, rig.mem.read(DATA << 12, 8), "a refused store hit changed memory");
        assertFalse(cpu.loadHit(GVA, 8, Pfec.USER, r), "while held every fast path falls back to the mutex");
        cpu.releaseStoreHits();
        assertTrue(cpu.storeHit(GVA, 7, 8, Pfec.WRITE | Pfec.USER, r), "store hits resume after the release");
        assertEquals(7, rig.mem.read(DATA << 12, 8));
        rig.assertConsistent("after the hold");
    }

    @Test
    void guestMemoryStaysStillWhileHeldBesideAThreadOfStoreHits() throws Exception {
        AtomicLong hits = new AtomicLong();
        AtomicLong misses = new AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread vcpu = new Thread(() -> {
            AccessResult r = new AccessResult();
            for (long n = 3; !stop.get(); n++) {
                if (cpu.storeHit(GVA, n, 8, Pfec.WRITE | Pfec.USER, r)) {
                    hits.incrementAndGet();
                } else {
                    misses.incrementAndGet(); // held: a real vCPU would wait for its mutex here
                    Thread.onSpinWait();
                }
            }
        }, "vcpu0");
        vcpu.start();
        try {
            for (int round = 0; round < 50; round++) {
                long before = hits.get();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (hits.get() < before + 100 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue(hits.get() >= before + 100, "round " + round + ": store hits did not resume after a release");
                cpu.holdStoreHits();
                try {
                    long first = rig.mem.read(DATA << 12, 8);
                    long hitsAtHold = hits.get();
                    for (int k = 0; k < 20_000; k++) {
                        long now = rig.mem.read(DATA << 12, 8);
                        if (now != first) {
                            throw new AssertionError("round " + round + ": guest memory changed from 0x"
                                    + Long.toHexString(first) + " to 0x" + Long.toHexString(now) + " while the vCPU was held");
                        }
                    }
                    assertTrue(hits.get() <= hitsAtHold + 1, "round " + round + ": store hits went on while held");
                } finally {
                    cpu.releaseStoreHits();
                }
            }
        } finally {
            stop.set(true);
            vcpu.join();
        }
        assertTrue(misses.get() > 0, "no store hit ever met a hold: the test did not test it");
    }
}
