package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.spi.Platform;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Register;

/**
 * KVM's remote flush ({@code kvm_flush_remote_tlbs} -> {@code kvm_make_all_cpus_request}, 4.5):
 * a request to every vCPU, an IPI only to those in guest mode (entered once, not in an exit of
 * their own, not kicked already), one wait for the requester whatever the number of targets,
 * and each target's exit counted on its own clock when it next runs. Cases computed by hand.
 * And what the wait is for: the flush does not return while another vCPU may still store
 * through a translation it had before the flush ({@link VcpuMode}).
 */
class RemoteFlushTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig("t", 64L << 20, 4, 64);

    RemoteFlushTest() {
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, DIRTY);
        for (int i = 0; i < 4; i++) {
            rig.vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
    }

    /** vCPU i runs one access (it enters the guest, then leaves its exit window). */
    private void run(int i) {
        assertTrue(rig.cpu(i).read(GVA, 8, false, rig.r).ok());
    }

    @Test
    void onlyVcpusInGuestModeGetAnIpiAndTheRequesterWaitsOnce() {
        run(1);
        run(2); // vCPU 3 never entered: outside guest mode
        MmuStats before = rig.mmu.stats();
        VcpuMmu requester = rig.cpu(0);
        requester.meter.beginSupervisor(); // vCPU 0 is in an exit: the requester is never in guest mode
        Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.flushRemoteTlbs();
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        requester.meter.end();
        MmuStats after = rig.mmu.stats();
        after.addScaled(before, -1);
        assertEquals(1, after.get(MmuCounter.REMOTE_TLB_FLUSH));
        assertEquals(4, after.get(MmuCounter.REMOTE_FLUSH_REQUESTS), "a request to every vCPU, the requester's own included");
        assertEquals(1, after.get(MmuCounter.REMOTE_FLUSH_IPIS), "two IPIs sent together: one wait");
        MmuStats charged = requester.meter.work(false);
        assertEquals(1, charged.get(MmuCounter.REMOTE_FLUSH_IPIS), "the wait is the requester's");
        assertEquals(4, charged.get(MmuCounter.REMOTE_FLUSH_REQUESTS));
        for (int i = 0; i < 4; i++) {
            assertTrue(rig.cpu(i).tlbFlushPending(), "vCPU " + i + " has the request");
        }
        assertEquals(0, after.get(MmuCounter.IPI_EXITS), "nobody has taken its exit yet");

        // A second flush before the targets ran: requests again, but the kicked vCPUs are already
        // exiting (EXITING_GUEST_MODE) and vCPU 3 still never entered: no IPI, no wait.
        before = rig.mmu.stats();
        requester.meter.beginSupervisor();
        Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.flushRemoteTlbs();
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        requester.meter.end();
        after = rig.mmu.stats();
        after.addScaled(before, -1);
        assertEquals(4, after.get(MmuCounter.REMOTE_FLUSH_REQUESTS));
        assertEquals(0, after.get(MmuCounter.REMOTE_FLUSH_IPIS));

        // Each target pays one exit on its own clock when it runs next; vCPU 3 only flushes.
        for (int i = 1; i <= 3; i++) {
            long exitsBefore = rig.cpu(i).meter.work(false).get(MmuCounter.IPI_EXITS);
            long flushesBefore = rig.cpu(i).meter.work(false).get(MmuCounter.TLB_FLUSH);
            run(i);
            MmuStats w = rig.cpu(i).meter.work(false);
            assertEquals(i == 3 ? 0 : 1, w.get(MmuCounter.IPI_EXITS) - exitsBefore, "vCPU " + i + "'s IPI exit");
            assertTrue(w.get(MmuCounter.TLB_FLUSH) - flushesBefore >= 1, "vCPU " + i + " flushed");
            assertFalse(rig.cpu(i).tlbFlushPending());
        }
        assertEquals(0, rig.cpu(0).meter.work(false).get(MmuCounter.IPI_EXITS) + rig.cpu(0).meter.work(true).get(MmuCounter.IPI_EXITS),
                "the requester took no IPI");
    }

    @Test
    void aFlushFromOutsideEveryVcpuIpisAllThatRanAndANewKickAfterTheExitWasTaken() {
        run(0);
        run(1);
        MmuStats before = rig.mmu.stats();
        Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.flushRemoteTlbs(); // host context (e.g. page track from the shell): no requester vCPU
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        MmuStats after = rig.mmu.stats();
        after.addScaled(before, -1);
        assertEquals(1, after.get(MmuCounter.REMOTE_FLUSH_IPIS));
        run(0);
        run(1);
        assertEquals(1, rig.cpu(0).count(MmuCounter.IPI_EXITS));
        assertEquals(1, rig.cpu(1).count(MmuCounter.IPI_EXITS));
        // They are back in guest mode: the next flush kicks them again.
        before = rig.mmu.stats();
        Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.flushRemoteTlbs();
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        after = rig.mmu.stats();
        after.addScaled(before, -1);
        assertEquals(1, after.get(MmuCounter.REMOTE_FLUSH_IPIS));
        run(0);
        assertEquals(2, rig.cpu(0).count(MmuCounter.IPI_EXITS));
    }

    @Test
    void aFlushDoesNotReturnWhileAStoreThroughAnOldTranslationIsInFlight() throws Exception {
        VcpuMmu storer = rig.cpu(0);
        java.util.concurrent.CountDownLatch inFlight = new java.util.concurrent.CountDownLatch(1);
        storer.beforeStore = () -> {
            inFlight.countDown();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!storer.tlbFlushPending() && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // the flush has posted its request to this vCPU
            }
            try {
                Thread.sleep(100); // time enough for a flush that does not wait to return
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        java.util.concurrent.atomic.AtomicReference<AccessResult> result = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(() -> result.set(storer.write(GVA, 0x5eed, 8, false, new AccessResult())), "vcpu0");
        t.start(); // its first access: a TLB miss, the walk, then the store on the slow path
        assertTrue(inFlight.await(10, java.util.concurrent.TimeUnit.SECONDS), "vCPU 0 reached its store");
        Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.flushRemoteTlbs(); // as a zap or a write protection of another vCPU does
            assertEquals(0x5eed, rig.vm.memory().read(DATA << 12, 8),
                    "when the flush returns, the store through the old translation has landed");
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        t.join(10_000);
        assertTrue(result.get().ok(), "the store completed: " + result.get());
    }
}
