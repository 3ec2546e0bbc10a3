package org.shadowbox.writeflood.internal;

import org.shadowbox.mmu.internal.shadow.MmuCounter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.writeflood.internal.FloodRig.DATA;
import static org.shadowbox.writeflood.internal.FloodRig.GVA;
import static org.shadowbox.writeflood.internal.FloodRig.LEAF;
import static org.shadowbox.writeflood.internal.FloodRig.OTHER;
import static org.shadowbox.writeflood.internal.FloodRig.PD;
import static org.shadowbox.writeflood.internal.FloodRig.PT;
import static org.shadowbox.writeflood.internal.FloodRig.TABLE;
import static org.shadowbox.writeflood.internal.FloodRig.gpa;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.ShadowPage;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.vm.Register;

/** {@code kvm_mmu_pte_write}'s rules against the real shadow MMU, one test per rule. */
class PteWriteTest {
    private final FloodRig rig = new FloodRig();

    private long pfn(long gfn) {
        return rig.vm.slotForGfn(gfn).hostFrame(gfn);
    }

    @Test
    void withNoIndirectShadowPageTheWriteReturnsAtOnce() {
        rig.emulate(0, gpa(PT, 5), 0, 8);
        assertEquals(1, rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_HANDLED), "the MMU gave the write to the handler");
        assertEquals(0, rig.stat("mmu_pte_write"), "which returned before counting it");
        assertEquals(0, rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_FALLBACK));
    }

    @Test
    void theThirdWriteSinceLastUseZapsATable() {
        rig.shadow();
        ShadowPage pd = rig.page(PD);
        rig.emulate(0, gpa(PD, 5), 0, 8);
        rig.emulate(0, gpa(PD, 5), 0, 8);
        assertEquals(2, pd.writeFloodingCount());
        assertFalse(pd.invalid());
        rig.emulate(0, gpa(PD, 5), 0, 8);
        assertNull(rig.page(PD), "flooded: unshadowed");
        assertEquals(1, rig.stat("mmu_flooded"));
        assertEquals(0, rig.stat("misaligned"));
        assertEquals(1, rig.stat("flush_commit"));
        assertEquals(0, rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_FALLBACK), "the MMU's fallback did not act");
        rig.assertConsistent("after the flood");
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value, "the guest still sees its memory");
    }

    @Test
    void theThresholdIsConfigurable() {
        FloodRig.policy(rig.flood, "kvm", 5);
        rig.shadow();
        for (int i = 1; i <= 4; i++) {
            rig.emulate(0, gpa(PD, 5), 0, 8);
            assertNotNull(rig.page(PD), "write " + i);
        }
        rig.emulate(0, gpa(PD, 5), 0, 8);
        assertNull(rig.page(PD));
    }

    @Test
    void usingThePageRestartsTheCount() {
        rig.shadow();
        rig.emulate(0, gpa(PD, 5), 0, 8);
        rig.emulate(0, gpa(PD, 5), 0, 8);
        rig.pte(PT, 1, (OTHER << 12) | LEAF);
        assertTrue(rig.cpu(0).read(GVA + 0x1000, 8, false, rig.r).ok()); // a fault whose fetch walks the PD
        assertEquals(0, rig.page(PD).writeFloodingCount());
        rig.emulate(0, gpa(PD, 5), 0, 8);
        rig.emulate(0, gpa(PD, 5), 0, 8);
        assertNotNull(rig.page(PD), "two writes since the last use");
        rig.emulate(0, gpa(PD, 5), 0, 8);
        assertNull(rig.page(PD));
    }

    @Test
    void aLevelOnePageNeverFloods() {
        rig.shadow();
        for (int i = 0; i < 10; i++) {
            rig.emulate(0, gpa(PT, 5), 0, 8);
        }
        assertNotNull(rig.page(PT));
        assertEquals(0, rig.page(PT).writeFloodingCount());
        assertEquals(0, rig.stat("mmu_flooded"));
        assertEquals(10, rig.stat("mmu_pte_write"));
    }

    @Test
    void anAlignedOneByteWriteIsNotMisaligned() {
        rig.shadow();
        rig.emulate(0, gpa(PT, 0), LEAF & ~Pte.RW, 1); // clear_bit: the low byte of the gpte
        assertNotNull(rig.page(PT));
        assertEquals(0, rig.stat("misaligned"));
        assertFalse(Spte.isPresent(rig.page(PT).spte(0)), "a 1-byte write gives no gpte: the spte is only zapped");
        assertEquals(1, rig.stat("flush_remote"), "a present spte went away");
        assertFalse(rig.cpu(0).write(GVA, 1, 8, false, rig.r).ok());
        assertEquals(14, rig.r.exception, "the guest sees its read-only gpte");
        rig.assertConsistent("after the 1-byte write");
    }

    @Test
    void otherShortWritesAreMisalignedAndZapWithoutCountingAsAFlood() {
        rig.shadow();
        rig.emulate(0, gpa(PT, 0) + 1, 0, 1);
        assertNull(rig.page(PT), "an unaligned byte");
        rig.shadow();
        rig.emulate(0, gpa(PT, 0), 0x67, 2);
        assertNull(rig.page(PT), "two bytes");
        assertEquals(2, rig.stat("misaligned"));
        assertEquals(2, rig.stat("mmu_flooded"));
        rig.assertConsistent("after the misaligned writes");
    }

    @Test
    void aWriteCrossingAnEntryIsMisaligned() {
        rig.shadow();
        rig.emulate(0, gpa(PT, 0) + 4, 0, 8);
        assertNull(rig.page(PT));
        assertEquals(1, rig.stat("misaligned"));
    }

    @Test
    void aFourByteWriteFromA64BitVcpuIsWidenedToItsEntry() {
        rig.shadow();
        rig.emulate(0, gpa(PT, 0) + 4, Pte.NX >>> 32, 4); // the high half: NX
        ShadowPage pt = rig.page(PT);
        assertNotNull(pt, "not misaligned once widened to the aligned 8 bytes");
        assertEquals(0, rig.stat("misaligned"));
        assertEquals(1, rig.stat("mmu_pte_updated"), "the whole gpte was re-read and installed");
        assertTrue((pt.spte(0) & Spte.NX) != 0);
        assertEquals(pfn(DATA), Spte.pfn(pt.spte(0)));
        rig.assertConsistent("after the widened write");
    }

    @Test
    void aLeafIsRebuiltInPlaceFromTheNewGpte() {
        rig.shadow();
        rig.emulate(0, gpa(PT, 0), (OTHER << 12) | LEAF, 8);
        assertEquals(1, rig.stat("mmu_pte_updated"));
        assertEquals(pfn(OTHER), Spte.pfn(rig.page(PT).spte(0)));
        assertEquals(1, rig.stat("flush_remote"), "the frame changed");
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        assertEquals(0x2222, rig.r.value);
        rig.assertConsistent("after the update");
    }

    @Test
    void aPageWhoseRoleDiffersFromTheWritersOnTheMaskedBitsIsOnlyZapped() {
        rig.shadow(); // vCPU 0's pages: CR0.WP=1
        rig.vm.vcpu(1).set(Register.CR0, rig.vm.vcpu(1).get(Register.CR0) & ~Register.CR0_WP);
        assertTrue(rig.cpu(1).read(GVA, 8, false, rig.r).ok()); // vCPU 1's pages: CR0.WP=0
        ShadowPage wp = null;
        ShadowPage noWp = null;
        for (ShadowPage sp : rig.mmu.shadowPages()) {
            if (sp.gfn() == PT && !sp.invalid()) {
                if ((sp.role() & org.shadowbox.mmu.internal.shadow.Role.CR0_WP) != 0) {
                    wp = sp;
                } else {
                    noWp = sp;
                }
            }
        }
        assertNotNull(wp);
        assertNotNull(noWp);
        rig.emulate(1, gpa(PT, 0), (OTHER << 12) | LEAF, 8);
        assertEquals(1, rig.stat("mmu_pte_updated"), "only the page of vCPU 1's role");
        assertEquals(pfn(OTHER), Spte.pfn(noWp.spte(0)));
        assertFalse(Spte.isPresent(wp.spte(0)), "the other role's spte is only zapped");
        rig.assertConsistent("after the write");
    }

    @Test
    void aNonLeafEntryIsOnlyZapped() {
        rig.shadow();
        rig.emulate(0, gpa(PD, 2), (0x14L << 12) | TABLE, 8);
        assertEquals(1, rig.stat("mmu_pde_zapped"));
        assertEquals(0, rig.stat("mmu_pte_updated"));
        assertFalse(Spte.isPresent(rig.page(PD).spte(2)));
        assertEquals(1, rig.stat("flush_remote"));
        rig.assertConsistent("after the PDE write");
    }

    @Test
    void aWriteThatTakesNothingAwayFlushesOnlyTheWritersTlb() {
        rig.pte(PT, 0, (DATA << 12) | LEAF & ~Pte.D); // clean: mapped read-only
        rig.shadow();
        long remote = rig.mmu.stats().get(MmuCounter.REMOTE_TLB_FLUSH);
        rig.emulate(0, gpa(PT, 0), (DATA << 12) | LEAF, 8); // same frame, more rights
        rig.emulate(0, gpa(PT, 9), (OTHER << 12) | LEAF, 8); // a not-present entry
        assertEquals(2, rig.stat("flush_local"));
        assertEquals(0, rig.stat("flush_remote"));
        assertEquals(remote, rig.mmu.stats().get(MmuCounter.REMOTE_TLB_FLUSH), "no remote flush");
        assertTrue(rig.cpu(0).tlbFlushPending(), "the writer flushes before it runs again");
        assertFalse(rig.cpu(1).tlbFlushPending());
        assertTrue(Spte.isPresent(rig.page(PT).spte(9)));
        rig.assertConsistent("after the writes");
    }

    @Test
    void theGpteIsReadFromMemoryNotTakenFromTheNotification() {
        rig.shadow();
        rig.pte(PT, 0, (OTHER << 12) | LEAF); // what memory holds now
        rig.hooks.trackWrite(rig.vm, 0, gpa(PT, 0), (DATA << 12) | LEAF, 8); // the MMU notified of an older write
        assertEquals(pfn(OTHER), Spte.pfn(rig.page(PT).spte(0)));
        rig.assertConsistent("after a late notification");
    }

    @Test
    void xenUnshadowsAfterTwoZeroWritesWithNoFaultBetween() {
        FloodRig.policy(rig.flood, "xen", 100);
        rig.shadow();
        rig.emulate(0, gpa(PD, 5), 0, 8);
        assertNotNull(rig.page(PD));
        rig.emulate(0, gpa(PD, 6), 0, 8);
        assertNull(rig.page(PD), "early unshadow");
        assertEquals(1, rig.stat("xen_early_unshadow"));
        assertEquals(1, rig.stat("xen_unshadowed_pages"));
        assertEquals(2, rig.stat("xen_writes"));
        rig.assertConsistent("after the unshadow");
    }

    @Test
    void xenKeepsThePageWhenAnotherFaultCameBetween() {
        FloodRig.policy(rig.flood, "xen", 100);
        rig.shadow();
        rig.emulate(0, gpa(PD, 5), 0, 8);
        rig.pte(PT, 1, (OTHER << 12) | LEAF);
        assertTrue(rig.cpu(0).read(GVA + 0x1000, 8, false, rig.r).ok()); // a fixed fault
        rig.emulate(0, gpa(PD, 6), 0, 8);
        assertNotNull(rig.page(PD));
        rig.emulate(0, gpa(PD, 7), 0x5000 | TABLE, 8); // not zeros: Xen's rule stays quiet
        assertNotNull(rig.page(PD));
        assertEquals(0, rig.stat("xen_early_unshadow"));
    }

    @Test
    void theZapPolicyZapsEveryPageOfTheGfn() {
        FloodRig.policy(rig.flood, "zap", 3);
        rig.shadow();
        rig.emulate(0, gpa(PT, 0), (OTHER << 12) | LEAF, 8);
        assertNull(rig.page(PT));
        assertEquals(1, rig.stat("zap_pages"));
        assertEquals(0, rig.stat("mmu_pte_updated"));
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        assertEquals(0x2222, rig.r.value);
    }
}
