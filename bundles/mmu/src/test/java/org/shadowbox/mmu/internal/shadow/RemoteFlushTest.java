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
        assertEquals(1, after.remoteTlbFlush);
        assertEquals(4, after.remoteFlushRequests, "a request to every vCPU, the requester's own included");
        assertEquals(1, after.remoteFlushIpis, "two IPIs sent together: one wait");
        MmuStats charged = requester.meter.work(false);
        assertEquals(1, charged.remoteFlushIpis, "the wait is the requester's");
        assertEquals(4, charged.remoteFlushRequests);
        for (int i = 0; i < 4; i++) {
            assertTrue(rig.cpu(i).tlbFlushPending(), "vCPU " + i + " has the request");
        }
        assertEquals(0, after.ipiExits, "nobody has taken its exit yet");

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
        assertEquals(4, after.remoteFlushRequests);
        assertEquals(0, after.remoteFlushIpis);

        // Each target pays one exit on its own clock when it runs next; vCPU 3 only flushes.
        for (int i = 1; i <= 3; i++) {
            long exitsBefore = rig.cpu(i).meter.work(false).ipiExits;
            long flushesBefore = rig.cpu(i).meter.work(false).tlbFlush;
            run(i);
            MmuStats w = rig.cpu(i).meter.work(false);
            assertEquals(i == 3 ? 0 : 1, w.ipiExits - exitsBefore, "vCPU " + i + "'s IPI exit");
            assertTrue(w.tlbFlush - flushesBefore >= 1, "vCPU " + i + " flushed");
            assertFalse(rig.cpu(i).tlbFlushPending());
        }
        assertEquals(0, rig.cpu(0).meter.work(false).ipiExits + rig.cpu(0).meter.work(true).ipiExits,
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
        assertEquals(1, after.remoteFlushIpis);
        run(0);
        run(1);
        assertEquals(1, rig.cpu(0).stats.ipiExits);
        assertEquals(1, rig.cpu(1).stats.ipiExits);
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
        assertEquals(1, after.remoteFlushIpis);
        run(0);
        assertEquals(2, rig.cpu(0).stats.ipiExits);
    }
}
