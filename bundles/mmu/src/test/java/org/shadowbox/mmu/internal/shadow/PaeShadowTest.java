package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;

/**
 * Shadow paging of a PAE guest as KVM does it: the 4 PDPTEs are loaded at CR3 write and the
 * shadow root is a PAE root of 4 entries naming the level-2 pages of the directories they name;
 * and the fault path's rules in this mode.
 */
class PaeShadowTest {
    /** CR3: the PDPT is 32-byte aligned, here in the middle of page 0x10. */
    private static final long CR3 = 0x10_0a0L;
    private static final long PD0 = 0x12, PD1 = 0x14, PD_ALT = 0x15, PT = 0x13, DATA = 0x200, OTHER = 0x201;
    private static final long GVA = 0x40_0000L; // PDPTE 0, PDE 2, PTE 0
    private static final long PT_WINDOW = 0x40_1000L, PD_WINDOW = 0x40_2000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig(PagingMode.PAE);
    private final VcpuMmu cpu0 = rig.cpu(0);

    PaeShadowTest() {
        rig.mem.write(CR3, (PD0 << 12) | Pte.P, 8);
        rig.mem.write(CR3 + 8, (PD1 << 12) | Pte.P, 8);
        rig.pte(PD0, 2, (PT << 12) | ShadowRig.RWU);
        rig.pte(PT, 0, (DATA << 12) | DIRTY);
        rig.pte(PT, 1, (PT << 12) | DIRTY);
        rig.pte(PT, 2, (PD0 << 12) | DIRTY);
        rig.pte(PD_ALT, 2, (PT << 12) | ShadowRig.RWU | Pte.NX); // another directory: the same PT, no exec
        rig.mem.write(DATA << 12, 0x1111, 8);
        for (int i = 0; i < 2; i++) {
            rig.vm.vcpu(i).set(Register.CR3, CR3);
        }
    }

    private long read(long gva) {
        assertTrue(cpu0.read(gva, 8, false, rig.r).ok(), "read 0x" + Long.toHexString(gva) + ": " + rig.r);
        return rig.r.value;
    }

    @Test
    void thePaeRootShadowsTheDirectoriesThePdptesName() {
        assertEquals(0x1111, read(GVA));
        assertEquals(PD0, cpu0.paeRoot(0).gfn());
        assertEquals(PD1, cpu0.paeRoot(1).gfn());
        assertNull(cpu0.paeRoot(2), "PDPTE 2 is not present");
        assertNull(cpu0.paeRoot(3));
        assertTrue(Role.cr4Pae(cpu0.paeRoot(0).role()));
        assertEquals(0, Role.quadrant(cpu0.paeRoot(0).role()), "8-byte gptes need no quadrant");
        assertEquals(2, cpu0.paeRoot(0).level());
        assertEquals(1, rig.external("obs").count(rig.vm, PD0, TrackMode.WRITE));
        assertEquals(0, rig.external("obs").count(rig.vm, CR3 >>> 12, TrackMode.WRITE),
                "the PDPT is not shadowed: its PDPTEs are read at CR3 write");
        assertFalse(cpu0.read(0x8000_0000L, 8, false, rig.r).ok());
        assertEquals(0, rig.r.errorCode & Pfec.PRESENT, "a not-present PDPTE faults");
        rig.assertConsistent("PAE root");
    }

    @Test
    void aPdpteChangeIsSeenAtTheNextCr3WriteNotBefore() {
        assertEquals(0x1111, read(GVA));
        rig.pte(PD_ALT, 2, (PT << 12) | ShadowRig.RWU);
        rig.pte(PT, 3, (OTHER << 12) | DIRTY);
        rig.mem.write(OTHER << 12, 0x2222, 8);
        rig.pte(PD_ALT, 3, (PT << 12) | ShadowRig.RWU); // PDE 3 of the new directory only
        rig.mem.write(CR3, (PD_ALT << 12) | Pte.P, 8); // the guest changes PDPTE 0 in memory
        rig.assertConsistent("a PDPTE changed, not yet loaded");
        assertFalse(cpu0.read(0x60_3000L, 8, false, rig.r).ok(), "the loaded PDPTE still names PD0");
        cpu0.invlpg(0x60_3000L);
        assertFalse(cpu0.read(0x60_3000L, 8, false, rig.r).ok(), "INVLPG does not load PDPTEs");
        ShadowPage before = cpu0.paeRoot(0);
        cpu0.writeCr3(CR3);
        assertEquals(PD_ALT, cpu0.paeRoot(0).gfn(), "the CR3 write loaded the new PDPTE");
        assertTrue(before.rootCount() == 0, "the old root was let go");
        assertEquals(0x2222, read(0x60_3000L));
        assertEquals(0x1111, read(GVA));
        rig.assertConsistent("PDPTE loaded");
        // A CR3 write with unchanged PDPTEs keeps the PAE root (KVM's fast path) and syncs it.
        ShadowPage kept = cpu0.paeRoot(0);
        long misses = rig.mmu.stats().get(MmuCounter.MMU_CACHE_MISS);
        cpu0.writeCr3(CR3);
        assertSame(kept, cpu0.paeRoot(0));
        assertEquals(misses, rig.mmu.stats().get(MmuCounter.MMU_CACHE_MISS));
        // A PDPTE with a reserved bit (R/W) faults with RSVD once loaded, and has no root entry.
        rig.mem.write(CR3 + 8, (PD1 << 12) | Pte.P | Pte.RW, 8);
        cpu0.writeCr3(CR3);
        assertNull(cpu0.paeRoot(1));
        assertFalse(cpu0.read(0x4000_0000L, 8, false, rig.r).ok());
        assertEquals(Pfec.PRESENT | Pfec.RSVD, rig.r.errorCode);
        rig.assertConsistent("reserved PDPTE");
    }

    @Test
    void aZappedRootIsRebuiltFromTheLoadedPdptesNotFromMemory() {
        assertEquals(0x1111, read(GVA));
        rig.mem.write(CR3, (PD_ALT << 12) | Pte.P, 8); // changed in memory, CR3 not written
        assertTrue(cpu0.write(PD_WINDOW + 8 * 7, 0, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "the directory is write-tracked");
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok(), "reloaded (kvm_mmu_reload) from the loaded PDPTE");
        assertEquals(PD0, cpu0.paeRoot(0).gfn());
        rig.assertConsistent("reloaded");
    }

    @Test
    void faultPathRulesHoldUnderPae() {
        // Unsync and resync of the PT.
        assertEquals(0x1111, read(GVA));
        assertTrue(cpu0.write(PT_WINDOW, (OTHER << 12) | DIRTY, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated);
        ShadowPage pt = rig.shadowPath(cpu0, GVA).get(1);
        assertTrue(pt.unsync());
        rig.assertConsistent("unsync");
        cpu0.writeCr3(CR3);
        assertFalse(pt.unsync());
        rig.mem.write(OTHER << 12, 0x2222, 8);
        assertEquals(0x2222, read(GVA));
        // A tracked gfn: a present write fault is emulated with no mapping attempt.
        rig.external("kvmgt").add(rig.vm, OTHER, TrackMode.WRITE);
        long fixed = rig.mmu.stats().get(MmuCounter.PF_FIXED);
        assertTrue(cpu0.write(GVA, 3, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        assertEquals(fixed, rig.mmu.stats().get(MmuCounter.PF_FIXED));
        assertEquals(List.of("vcpu0 0x201000=0x3/8"), rig.writes);
        // NX exists in PAE: a directory with NX above the same PT forbids fetches.
        rig.mem.write(CR3, (PD_ALT << 12) | Pte.P, 8);
        cpu0.writeCr3(CR3);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertFalse(cpu0.fetch(GVA, 1, false, rig.r).ok());
        assertEquals(Pfec.PRESENT | Pfec.FETCH, rig.r.errorCode);
        assertTrue(rig.shadowPath(cpu0, GVA).get(1) != pt, "another path's rights: another level-1 page");
        rig.assertConsistent("NX path");
    }
}
