package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;

/**
 * {@code write_flooding_count} is counted "since the page was last used": the three places KVM
 * clears it, one test each, and an access that does not fault (TLB or hardware walk), which
 * does not.
 */
class FloodCountTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, PT2 = 0x14, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig();
    private final VcpuMmu cpu = rig.cpu(0);

    FloodCountTest() {
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, DIRTY);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        assertTrue(cpu.read(GVA, 8, false, rig.r).ok());
    }

    private List<ShadowPage> pathWithCount(int count) {
        List<ShadowPage> path = rig.shadowPath(cpu, GVA);
        assertEquals(4, path.size());
        path.forEach(sp -> sp.writeFloodingCount = count);
        return path;
    }

    @Test
    void theFetchOfAFaultClearsEveryPageItWalks() {
        List<ShadowPage> path = pathWithCount(2);
        rig.pte(PD, PageFault.index(GVA + (1 << 21), 2), (PT2 << 12) | ShadowRig.RWU | Pte.A); // a new 2 MiB region under the same PD
        rig.pte(PT2, 0, (DATA << 12) | DIRTY);
        assertTrue(cpu.read(GVA + (1 << 21), 8, false, rig.r).ok());
        for (ShadowPage sp : path.subList(0, 3)) {
            assertEquals(0, sp.writeFloodingCount(), "FNAME(fetch) walked " + sp);
        }
        assertEquals(2, path.get(3).writeFloodingCount(), "the PT of the other region was not walked");
        rig.assertConsistent("after the fault");
    }

    @Test
    void aGetPageHitClearsThePage() {
        ShadowPage pd = pathWithCount(2).get(2);
        Platform.mmuLock(rig.mmu.vm).lock();
        try {
            ShadowPage hit = rig.mmu.getPage(cpu, PD, 2, false, Role.access(pd.role));
            assertSame(pd, hit, "kvm_mmu_get_page found the page");
        } finally {
            Platform.mmuLock(rig.mmu.vm).unlock();
        }
        assertEquals(0, pd.writeFloodingCount());
    }

    @Test
    void theTrackedWriteFastPathClearsThePagesAlongTheFaultingAddress() {
        rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE);
        List<ShadowPage> path = pathWithCount(2);
        long emulated = rig.mmu.stats().get(MmuCounter.PF_EMULATE);
        assertTrue(cpu.write(GVA, 5, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        assertEquals(emulated + 1, rig.mmu.stats().get(MmuCounter.PF_EMULATE), "page_fault_handle_page_track sent it to emulation");
        path.forEach(sp -> assertEquals(0, sp.writeFloodingCount(), "cleared: " + sp));
    }

    @Test
    void anAccessThatDoesNotFaultLeavesTheCounts() {
        List<ShadowPage> path = pathWithCount(2);
        assertTrue(cpu.read(GVA + 16, 8, false, rig.r).ok()); // TLB hit
        cpu.flushLocal();
        assertTrue(cpu.read(GVA + 24, 8, false, rig.r).ok()); // hardware walk of the sptes
        path.forEach(sp -> assertEquals(2, sp.writeFloodingCount(), "no fault, no use: " + sp));
    }
}
