package org.shadowbox.mmu.internal.tdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.HitCounts;
import org.shadowbox.vm.Register;

/**
 * The TDP TLB-hit fast path gives way to the full entry whenever a register it depends on was
 * set behind the MMU's back ({@code Vcpu.set}, counted in the vCPU's MMU-context generation),
 * and its permission bits, decided at fill time, follow CR4 and EFLAGS.AC as the processor's do.
 */
class TdpTlbHitPathTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long PML4B = 0x20, PDPTB = 0x21, PDB = 0x22, PTB = 0x23, OTHER = 0x201;
    private static final long GVA = 0x40_0000L;
    private static final long DIRTY = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;

    private final TdpRig rig = new TdpRig("64");
    private final TdpVcpu cpu0 = rig.cpu(0);

    TdpTlbHitPathTest() {
        map(PML4, PDPT, PD, PT, DATA);
        map(PML4B, PDPTB, PDB, PTB, OTHER);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(OTHER << 12, 0x2222, 8);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
    }

    /** GVA (PML4 index 0, PDPT 0, PD 2, PT 0) to {@code data} under {@code pml4}. */
    private void map(long pml4, long pdpt, long pd, long pt, long data) {
        rig.mem.write(pml4 << 12, (pdpt << 12) | DIRTY, 8);
        rig.mem.write(pdpt << 12, (pd << 12) | DIRTY, 8);
        rig.mem.write((pd << 12) + 16, (pt << 12) | DIRTY, 8);
        rig.mem.write(pt << 12, (data << 12) | DIRTY, 8);
    }

    private void readTwiceFromTheTlb(long expected) {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        long hits = cpu0.tlbHits();
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(expected, rig.r.value);
        assertEquals(hits + 1, cpu0.tlbHits(), "the second read hit the TLB");
    }

    /** A hit is counted once, and read as an access of its mode and as {@code tlb_hit} ({@link HitCounts}). */
    @Test
    void aHitIsCountedOnceAndReadAsAnAccessOfItsModeAndATlbHit() {
        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok()); // the fill (a miss, or a hit after the fault)
        HitCounts.assertEachHitCountedOnce(cpu0.meter(), cpu0::tlbHits, () -> rig.mmu.stats().get(TdpCounter.TLB_HIT),
                () -> cpu0.count(TdpCounter.TLB_HIT), () -> cpu0.loadHit(GVA + 8, 8, Pfec.USER, rig.r),
                () -> cpu0.loadHit(GVA + 16, 8, 0, rig.r), () -> cpu0.storeHit(GVA + 24, 7, 8, Pfec.WRITE | Pfec.USER, rig.r));
    }

    @Test
    void aCr3SetBehindTheMmusBackIsSeenOnTheNextAccess() {
        readTwiceFromTheTlb(0x1111);
        rig.vm.vcpu(0).set(Register.CR3, PML4B << 12);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x2222, rig.r.value, "the new CR3's mapping, not the stale TLB entry");
        rig.assertConsistent("after the CR3 change");
    }

    @Test
    void aCr3SetAwayAndBackAgainStillHitsWithTheRightMapping() {
        readTwiceFromTheTlb(0x1111);
        rig.vm.vcpu(0).set(Register.CR3, PML4B << 12);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok(), "one full entry: the registers are as they were");
        assertEquals(0x1111, rig.r.value);
        readTwiceFromTheTlb(0x1111);
    }

    @Test
    void smapSetBehindTheMmusBackAppliesToTheCachedEntryAndEflagsAcLiftsIt() {
        readTwiceFromTheTlb(0x1111); // a supervisor read of a user page: allowed without SMAP
        rig.vm.vcpu(0).set(Register.CR4, rig.vm.vcpu(0).get(Register.CR4) | Register.CR4_SMAP);
        assertFalse(cpu0.read(GVA, 8, false, rig.r).ok(), "SMAP forbids it once CR4 says so");
        assertEquals(GuestWalk.PAGE_FAULT, rig.r.exception);
        assertEquals(Pfec.PRESENT, rig.r.errorCode & Pfec.PRESENT);
        rig.vm.vcpu(0).set(Register.RFLAGS, rig.vm.vcpu(0).get(Register.RFLAGS) | Register.RFLAGS_AC);
        readTwiceFromTheTlb(0x1111); // EFLAGS.AC lifts SMAP, and the hit reads it (no flush: RFLAGS is not in the context)
        rig.vm.vcpu(0).set(Register.RFLAGS, rig.vm.vcpu(0).get(Register.RFLAGS) & ~Register.RFLAGS_AC);
        long hits = cpu0.tlbHits();
        assertFalse(cpu0.read(GVA, 8, false, rig.r).ok(), "AC cleared again: the cached entry's bit for AC=0 refuses");
        assertEquals(hits, cpu0.tlbHits());
    }

    @Test
    void aRemoteFlushRequestEmptiesTheTlbBeforeTheNextAccess() {
        readTwiceFromTheTlb(0x1111);
        cpu0.requestTlbFlush();
        long misses = cpu0.count(TdpCounter.TLB_MISS);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(misses + 1, cpu0.count(TdpCounter.TLB_MISS), "the flushed entry is walked again");
        assertFalse(cpu0.tlbFlushPending());
    }
}
