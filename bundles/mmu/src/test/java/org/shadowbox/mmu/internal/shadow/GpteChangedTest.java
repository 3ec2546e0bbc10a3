package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Register;

/**
 * {@code FNAME(gpte_changed)}: a gpte rewritten between the lockless guest walk and the MMU
 * lock (another vCPU storing to a table not yet shadowed, so nothing traps) is caught in
 * {@code FNAME(fetch)}: nothing is installed from the stale walk and the fault is retried.
 * The write is placed in that window deterministically ({@link VcpuMmu#afterGuestWalk});
 * {@code guest/SmpTableEditTest} provokes the same race with real threads.
 */
class GpteChangedTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, PT2 = 0x14;
    private static final long DATA = 0x200, OLD = 0x201, NEW = 0x202;
    private static final long GVA = 0x40_0000L;
    /** Under PD entry 3, through PT2: a table the first access does not shadow. */
    private static final long GVA2 = 0x60_0000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig();
    private final VcpuMmu cpu0 = rig.cpu(0);

    GpteChangedTest() {
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, DIRTY);
        rig.map4k(PML4, new long[] {PDPT, PD, PT2}, GVA2, OLD, DIRTY);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(OLD << 12, 0x0bad, 8);
        rig.mem.write(NEW << 12, 0x600d, 8);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok()); // PML4, PDPT, PD and PT shadowed; PT2 not
    }

    @Test
    void aLeafGpteRewrittenAfterTheWalkIsNotInstalledAndTheFaultIsRetried() {
        int[] runs = new int[1];
        cpu0.afterGuestWalk = () -> {
            if (runs[0]++ == 0) {
                rig.pte(PT2, 0, (NEW << 12) | DIRTY); // the other vCPU's store lands here
            }
        };
        assertTrue(cpu0.read(GVA2, 8, false, rig.r).ok(), rig.r.toString());
        assertEquals(0x600d, rig.r.value, "the guest reads through the gpte memory holds, not the one it walked");
        assertEquals(1, cpu0.gpteChangedRetries(), "fetch saw the change under the lock and retried once");
        assertEquals(2, runs[0], "the retry walked the tables again");
        rig.assertConsistent("after the retried fault");
    }

    @Test
    void aDirectoryEntryRewrittenAfterTheWalkIsCaughtAtItsLevel() {
        long pt3 = 0x15;
        rig.pte(pt3, 0, (NEW << 12) | DIRTY);
        int[] runs = new int[1];
        cpu0.afterGuestWalk = () -> {
            if (runs[0]++ == 0) {
                rig.pte(PD, 3, (pt3 << 12) | ShadowRig.RWU | Pte.A); // an emulated store: in memory, its pte_write not yet run
            }
        };
        assertTrue(cpu0.read(GVA2, 8, false, rig.r).ok(), rig.r.toString());
        assertEquals(0x600d, rig.r.value);
        assertEquals(1, cpu0.gpteChangedRetries());
        rig.assertConsistent("after the retried fault");
    }

    @Test
    void withNoChangeNothingIsRetried() {
        assertTrue(cpu0.read(GVA2, 8, false, rig.r).ok());
        assertEquals(0x0bad, rig.r.value);
        assertEquals(0, cpu0.gpteChangedRetries());
    }
}
