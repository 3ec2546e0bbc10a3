package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Register;

/**
 * The TLB-hit fast path of {@link GuestAccess} gives way to the full entry whenever KVM would
 * do something before entering the guest: registers changed behind the MMU's back
 * ({@code Vcpu.set}), a zapped root, a pending flush request.
 */
class TlbHitPathTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long PML4B = 0x20, PDPTB = 0x21, PDB = 0x22, PTB = 0x23, OTHER = 0x201;
    private static final long GVA = 0x40_0000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private final ShadowRig rig = new ShadowRig();
    private final VcpuMmu cpu0 = rig.cpu(0);

    TlbHitPathTest() {
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, DIRTY);
        rig.map4k(PML4B, new long[] {PDPTB, PDB, PTB}, GVA, OTHER, DIRTY);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(OTHER << 12, 0x2222, 8);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
    }

    /** Reads GVA twice, the second time from the TLB, and checks it was a hit. */
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
        HitCounts.assertEachHitCountedOnce(cpu0.meter(), cpu0::tlbHits, () -> rig.mmu.stats().get(MmuCounter.TLB_HIT),
                () -> cpu0.count(MmuCounter.TLB_HIT), () -> cpu0.loadHit(GVA + 8, 8, Pfec.USER, rig.r),
                () -> cpu0.loadHit(GVA + 16, 8, 0, rig.r), () -> cpu0.storeHit(GVA + 24, 7, 8, Pfec.WRITE | Pfec.USER, rig.r));
    }

    @Test
    void aCr3SetBehindTheMmusBackIsSeenOnTheNextAccess() {
        readTwiceFromTheTlb(0x1111);
        rig.vm.vcpu(0).set(Register.CR3, PML4B << 12);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x2222, rig.r.value, "the new CR3's mapping, not the stale TLB entry");
        assertEquals(OTHER << 12, rig.r.gpa);
        rig.assertConsistent("after the CR3 change");
    }

    @Test
    void aCr4SetBehindTheMmusBackResetsTheContext() {
        readTwiceFromTheTlb(0x1111); // a supervisor read of a user page: allowed without SMAP
        rig.vm.vcpu(0).set(Register.CR4, rig.vm.vcpu(0).get(Register.CR4) | Register.CR4_SMAP);
        assertFalse(cpu0.read(GVA, 8, false, rig.r).ok(), "SMAP forbids it once CR4 says so");
        assertEquals(GuestWalk.PAGE_FAULT, rig.r.exception);
        assertEquals(Pfec.PRESENT, rig.r.errorCode & Pfec.PRESENT);
        rig.vm.vcpu(0).set(Register.RFLAGS, rig.vm.vcpu(0).get(Register.RFLAGS) | Register.RFLAGS_AC);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok(), "EFLAGS.AC lifts SMAP");
    }

    @Test
    void aZappedRootIsReloadedAtTheNextAccessWithoutARequest() {
        readTwiceFromTheTlb(0x1111);
        ShadowPage old = cpu0.root();
        assertNotNull(old);
        Platform.mmuLock(rig.mmu.vm).lock();
        try {
            rig.mmu.prepareZap(old);
        } finally {
            Platform.mmuLock(rig.mmu.vm).unlock();
        }
        assertFalse(cpu0.tlbFlushPending(), "no request: only the zapped root says it");
        long flushes = cpu0.count(MmuCounter.TLB_FLUSH);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        assertNotSame(old, cpu0.root(), "kvm_mmu_reload made a new root");
        assertTrue(cpu0.count(MmuCounter.TLB_FLUSH) > flushes, "and flushed the TLB");
        rig.assertConsistent("after the reload");
    }

    @Test
    void aRemoteFlushRequestEmptiesTheTlbBeforeTheNextAccess() {
        readTwiceFromTheTlb(0x1111);
        cpu0.requestTlbFlush();
        long misses = cpu0.count(MmuCounter.TLB_MISS);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(misses + 1, cpu0.count(MmuCounter.TLB_MISS), "the flushed entry is walked again");
        assertFalse(cpu0.tlbFlushPending());
    }
}
