package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.SlotSpec;

/** The rules of the TDP fault path, one test each, on a 64-bit guest. */
class TdpFaultTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200, OTHER = 0x201;
    private static final long GVA = 0x40_0000L;
    private static final long PT_WINDOW = 0x40_1000L;
    private static final long DIRTY = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;

    private final TdpRig rig = new TdpRig("64");
    private final TdpVcpu cpu0 = rig.cpu(0);
    private final TdpVcpu cpu1 = rig.cpu(1);

    TdpFaultTest() {
        pte(PML4, 0, (PDPT << 12) | DIRTY);
        pte(PDPT, 0, (PD << 12) | DIRTY);
        pte(PD, 2, (PT << 12) | DIRTY);
        pte(PT, 0, (DATA << 12) | DIRTY);
        pte(PT, 1, (PT << 12) | DIRTY);
        pte(PT, 2, (OTHER << 12) | DIRTY);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(OTHER << 12, 0x2222, 8);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        rig.vm.vcpu(1).set(Register.CR3, PML4 << 12);
    }

    private void pte(long table, int index, long value) {
        rig.mem.write((table << 12) + 8L * index, value, 8);
    }

    private long pteAt(long table, int index) {
        return rig.mem.read((table << 12) + 8L * index, 8);
    }

    @Test
    void guestPageTableWritesAndGuestFaultsNeverExit() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        assertTrue(cpu0.write(PT_WINDOW + 8 * 5, (OTHER << 12) | DIRTY, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated, "the guest writes its own page table directly");
        long taken = rig.mmu.stats().get(TdpCounter.PF_TAKEN);
        assertTrue(cpu0.write(PT_WINDOW + 8 * 6, 0, 8, false, rig.r).ok());
        assertEquals(taken, rig.mmu.stats().get(TdpCounter.PF_TAKEN), "no exit for a page-table write once mapped");
        assertFalse(cpu0.read(GVA + 0x6000, 8, true, rig.r).ok());
        assertEquals(GuestWalk.PAGE_FAULT, rig.r.exception);
        assertEquals(Pfec.USER, rig.r.errorCode);
        assertEquals(GVA + 0x6000, rig.vm.vcpu(0).get(Register.CR2));
        TdpStats st = rig.mmu.stats();
        assertEquals(taken, st.get(TdpCounter.PF_TAKEN), "a guest fault is delivered without an exit");
        assertEquals(1, st.get(TdpCounter.GUEST_PF));
        rig.assertConsistent("after page-table writes");
    }

    @Test
    void theGuestWalkSetsAccessedAndDirtyAndACleanTlbEntryWalksAgainForAWrite() {
        pte(PT, 0, (DATA << 12) | Pte.P | Pte.RW | Pte.US);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(Pte.A, pteAt(PT, 0) & (Pte.A | Pte.D), "A set by the walk, D not");
        assertTrue((pteAt(PD, 2) & Pte.A) != 0, "A at every level");
        assertTrue(cpu0.write(GVA, 5, 8, false, rig.r).ok());
        assertEquals(Pte.A | Pte.D, pteAt(PT, 0) & (Pte.A | Pte.D), "the write through a clean entry set D");
        assertTrue(cpu0.write(GVA, 6, 8, false, rig.r).ok());
        assertTrue(rig.mmu.stats().get(TdpCounter.TLB_HIT) > 0, "then the dirty entry is used");
        rig.assertConsistent("A/D");
    }

    @Test
    void aWriteToAPageTrackedByAnExternalTrackerIsEmulatedAndNotified() {
        assertTrue(cpu0.write(GVA, 1, 8, false, rig.r).ok());
        assertTrue(Spte.isWritable(rig.leaf(DATA)), "untracked: mapped writable");
        PageTrack kvmgt = rig.external("kvmgt");
        kvmgt.add(rig.vm, DATA, TrackMode.WRITE);
        long e = rig.leaf(DATA);
        assertTrue(Spte.isPresent(e) && (e & (Spte.WRITABLE | Spte.MMU_WRITEABLE)) == 0,
                "the hook write-protected the TDP entry, both bits");
        assertTrue(cpu0.tlbFlushPending() && cpu1.tlbFlushPending(), "and flushed remote TLBs");
        rig.assertConsistent("tracked");
        TdpStats before = rig.mmu.stats();
        assertTrue(cpu0.write(GVA + 8, 0xabcd, 4, false, rig.r).ok());
        TdpStats after = rig.mmu.stats();
        assertTrue(rig.r.emulated);
        assertEquals(before.get(TdpCounter.PF_TAKEN) + 1, after.get(TdpCounter.PF_TAKEN));
        assertEquals(before.get(TdpCounter.PF_EMULATE_TRACKED) + 1, after.get(TdpCounter.PF_EMULATE_TRACKED), "page_fault_handle_page_track");
        assertEquals(before.get(TdpCounter.PF_FIXED), after.get(TdpCounter.PF_FIXED), "no mapping attempt");
        assertEquals(before.get(TdpCounter.MMU_LOCK_FAULT), after.get(TdpCounter.MMU_LOCK_FAULT), "no MMU lock");
        assertEquals(List.of("vcpu0 0x200008=0xabcd/4"), rig.writes, "the tracker heard the write");
        assertEquals(0xabcd, rig.mem.read((DATA << 12) + 8, 4));
        assertTrue(cpu0.read(GVA + 8, 4, false, rig.r).ok());
        assertFalse(rig.r.emulated, "reads go through the read-only entry");
        assertEquals(0xabcd, rig.r.value);
        kvmgt.remove(rig.vm, DATA, TrackMode.WRITE);
        assertFalse(Spte.isWritable(rig.leaf(DATA)), "remove touches no entry");
        long fixed = rig.mmu.stats().get(TdpCounter.PF_FIXED);
        assertTrue(cpu0.write(GVA, 2, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated);
        assertEquals(fixed + 1, rig.mmu.stats().get(TdpCounter.PF_FIXED), "write access comes back on the next violation");
        assertEquals(1, rig.writes.size());
        rig.assertConsistent("untracked");
    }

    @Test
    void aNotPresentWriteOnATrackedGfnMapsReadOnlyThenEmulates() {
        rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE);
        TdpStats before = rig.mmu.stats();
        assertTrue(cpu0.write(GVA, 0x77, 1, true, rig.r).ok());
        TdpStats after = rig.mmu.stats();
        assertTrue(rig.r.emulated);
        assertEquals(before.get(TdpCounter.PF_FIXED) + 1, after.get(TdpCounter.PF_FIXED), "the normal path mapped it");
        assertEquals(before.get(TdpCounter.PF_EMULATE) + 1, after.get(TdpCounter.PF_EMULATE));
        assertEquals(before.get(TdpCounter.PF_EMULATE_TRACKED), after.get(TdpCounter.PF_EMULATE_TRACKED), "not the fast path: it was not present");
        long e = rig.leaf(DATA);
        assertTrue(Spte.isPresent(e) && !Spte.isWritable(e));
        assertEquals(0x1177, rig.mem.read(DATA << 12, 8));
        assertEquals(List.of("vcpu0 0x200000=0x77/1"), rig.writes);
        rig.assertConsistent("mapped read-only");
    }

    @Test
    void largeMappingsHonourTheDisallowCounts() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(2, rig.leafLevel(DATA), "a 2 MiB frame wholly in slot 1 is mapped large");
        assertEquals(0, rig.leafLevel(PT), "the guest walk reads its tables without going through TDP");
        assertTrue(cpu0.read(PT_WINDOW, 8, false, rig.r).ok());
        assertEquals(1, rig.leafLevel(PT), "gfn 0x13 is in the frame [0, 0x200) that slot 0 and the hole split");
        PageTrack kvmgt = rig.external("kvmgt");
        kvmgt.add(rig.vm, OTHER + 0x10, TrackMode.WRITE);
        long large = rig.leaf(DATA);
        assertTrue(Spte.isPresent(large) && !Spte.isWritable(large), "write-protected, not dropped, as KVM does");
        rig.assertConsistent("large leaf write-protected");
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(2, rig.leafLevel(DATA), "a read keeps using it");
        assertTrue(cpu0.write(GVA, 3, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated);
        assertEquals(1, rig.leafLevel(DATA), "a write splits it: the frame is disallowed now");
        assertTrue(Spte.isWritable(rig.leaf(DATA)));
        kvmgt.remove(rig.vm, OTHER + 0x10, TrackMode.WRITE);
        pte(PT, 3, ((DATA + 0x20) << 12) | DIRTY);
        assertTrue(cpu0.write(GVA + 0x3000, 4, 8, false, rig.r).ok());
        assertEquals(2, rig.leafLevel(DATA + 0x20), "allowed again: the next violation maps large, replacing the table");
        assertEquals(2, rig.leafLevel(DATA));
        rig.assertConsistent("large again");
    }

    @Test
    void oneGigabyteMappingsNeedTheWholeFrameInOneSlot() {
        TdpRig big = new TdpRig("big", 3L << 30, 1, "64", 64);
        long giga = 0x40000; // gfn of 1 GiB
        big.mem.write(PML4 << 12, (PDPT << 12) | DIRTY, 8);
        big.mem.write(PDPT << 12, (giga << 12) | DIRTY | Pte.PS, 8); // guest 1 GiB page at gva 0
        big.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        assertTrue(big.cpu(0).write(0x1234_5000L, 9, 8, false, big.r).ok());
        assertEquals(3, big.leafLevel(giga + 0x12345), "1 GiB TDP leaf");
        Memslot1g.check(big, giga);
        Platform.slot(big.vm.slotForGfn(giga)).updateLpageDisallow(giga + 7, 1); // as a shadowed page would
        assertTrue(big.cpu(0).write(0x1234_5000L, 10, 8, false, big.r).ok());
        assertEquals(3, big.leafLevel(giga + 0x12345), "a present writable leaf is not touched by a count change");
        big.mmu.zapAll();
        assertTrue(big.cpu(0).write(0x1234_5000L, 11, 8, false, big.r).ok());
        assertEquals(2, big.leafLevel(giga + 0x12345), "2 MiB: the 1 GiB frame is disallowed, this 2 MiB one is not");
        assertTrue(big.cpu(0).read(0x5000L, 8, false, big.r).ok());
        assertEquals(1, big.leafLevel(giga + 5), "the 2 MiB frame holding the disallowed gfn: 4 KiB");
        big.assertConsistent("1G");
    }

    /** Helper for the 1 GiB test: the leaf maps the slot's frame. */
    private static final class Memslot1g {
        static void check(TdpRig big, long giga) {
            assertEquals(big.vm.slotForGfn(giga).hostFrame(giga), Spte.pfn(big.leaf(giga)));
        }
    }

    @Test
    void aRemoteFlushIsRequestedAndAMissingOneIsCaughtAsAStaleTlbEntry() {
        assertTrue(cpu1.write(GVA, 1, 8, false, rig.r).ok());
        assertTrue(cpu1.write(GVA, 2, 8, false, rig.r).ok());
        Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.slotGfnWriteProtect(DATA); // a buggy caller forgets kvm_flush_remote_tlbs
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        List<String> violations = rig.check();
        assertEquals(1, violations.size(), violations.toString());
        assertTrue(violations.get(0).startsWith("(f) vCPU 1 TLB entry for gva 0x400000 is stale"), violations.get(0));
        rig.mmu.flushRemoteTlbs();
        rig.assertConsistent("after the flush request");
        rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE);
        assertTrue(cpu1.write(GVA, 3, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "cpu1 flushed before its access, so the write was caught");
    }

    @Test
    void cr3LoadsAndInvlpgFlushTheGuestsTlbAndTheCheckerCatchesASurvivor() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        pte(PT, 0, (OTHER << 12) | DIRTY); // the guest changes its PTE, no flush yet
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value, "the old translation stands until the guest flushes, as on hardware");
        rig.assertConsistent("a changed guest entry is the guest's to flush");
        cpu0.writeCr3(PML4 << 12);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x2222, rig.r.value);
        pte(PT, 0, (DATA << 12) | DIRTY);
        cpu0.invlpg(GVA);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        cpu0.guestFlushes++; // as if a CR3 load had forgotten to flush
        List<String> violations = rig.check();
        assertEquals(1, violations.size(), violations.toString());
        assertTrue(violations.get(0).contains("survived a guest TLB flush"), violations.get(0));
    }

    @Test
    void theCheckerCatchesAWritableEntryOverATrackedGfnAndAWrongFrame() {
        assertTrue(cpu0.write(GVA + 0x2000, 1, 8, false, rig.r).ok());
        assertEquals(2, rig.leafLevel(OTHER), "a large leaf");
        assertTrue(cpu0.write(PT_WINDOW + 8 * 9, 0, 8, false, rig.r).ok());
        assertTrue(Spte.isWritable(rig.leaf(PT)));
        Platform.mmuLock(rig.vm).lock();
        try {
            // Behind the MMU's back: counts changed without write-protecting anything.
            Platform.slot(rig.vm.slotForGfn(OTHER)).updateLpageDisallow(OTHER, 1);
            Platform.slot(rig.vm.slotForGfn(PT)).gfnTrack(TrackMode.WRITE.ordinal()).add(PT, 1);
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        List<String> v = rig.check();
        assertTrue(v.stream().anyMatch(s -> s.startsWith("(c) writable large")), v.toString());
        assertTrue(v.stream().anyMatch(s -> s.startsWith("(a) writable TDP leaf of gfn 0x13")), v.toString());
        Platform.mmuLock(rig.vm).lock();
        try {
            rig.mmu.table(rig.mmu.root())[0] = 0; // leaks the tables below, and what maps gfn 0x200
            rig.mmu.map(DATA, 1, false, rig.vm.slotForGfn(DATA));
            long[] pt = rig.mmu.table(Spte.childId(rig.mmu.table(Spte.childId(rig.mmu.table(Spte.childId(
                    rig.mmu.table(rig.mmu.root())[0]))[0]))[1]));
            pt[0] += 1L << 12; // the next host frame
        } finally {
            Platform.mmuLock(rig.vm).unlock();
        }
        v = rig.check();
        assertTrue(v.stream().anyMatch(s -> s.startsWith("(d) TDP leaf of gfn 0x200 (level 1) maps pfn")), v.toString());
        assertTrue(v.stream().anyMatch(s -> s.startsWith("(e) ") && s.contains("reachable")), v.toString());
    }

    @Test
    void deletingASlotZapsEveryMapping() {
        rig.vm.createSlot(new SlotSpec(5, 0x8000, 16, 0));
        pte(PT, 4, (0x8000L << 12) | DIRTY);
        assertTrue(cpu0.write(GVA + 0x4000, 7, 8, false, rig.r).ok());
        assertEquals(1, rig.leafLevel(0x8000));
        int pages = rig.mmu.tablePages();
        rig.vm.deleteSlot(5);
        assertEquals(1, rig.mmu.tablePages(), "only the root is left (was " + pages + ")");
        assertEquals(0, rig.leafLevel(DATA));
        rig.assertConsistent("after delete");
        assertTrue(cpu0.read(GVA + 0x4000, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "the gpa is MMIO now");
        assertEquals(-1L, rig.r.value);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        rig.assertConsistent("remapped");
    }

    @Test
    void noShadowPagesExistForGuestTables() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        PageTrack observer = rig.external("test.observer");
        for (long gfn : new long[] {PML4, PDPT, PD, PT}) {
            assertEquals(0, observer.count(rig.vm, gfn, TrackMode.WRITE), "gfn 0x" + Long.toHexString(gfn));
        }
        assertTrue(observer.tracked(rig.vm).isEmpty(), "the TDP MMU tracks nothing");
    }

    /**
     * A 32-bit guest's linear addresses are 32 bits: an access that crosses 4 GiB wraps to 0,
     * bits 63:32 of a gva are dropped (in the TLB tag too), and CR2 holds the 32-bit address.
     */
    @Test
    void thirtyTwoBitLinearAddressesWrapAtFourGigabytes() {
        TdpRig r32 = new TdpRig("32");
        TdpVcpu c = r32.cpu(0);
        long pd = 0x10, pt = 0x11;
        r32.mem.write((pd << 12) + 4 * 0x3ff, (pt << 12) | DIRTY, 4); // the last 4 MiB: PT entry 1023
        r32.mem.write((pt << 12) + 4 * 1023, (OTHER << 12) | DIRTY, 4);
        r32.mem.write(pd << 12, (pt << 12) | DIRTY, 4); // gva 0: PT entry 0
        r32.mem.write(pt << 12, (DATA << 12) | DIRTY, 4);
        r32.mem.write((OTHER << 12) + 4094, 0xbbaa, 2);
        r32.mem.write(DATA << 12, 0xddcc, 2);
        r32.vm.vcpu(0).set(Register.CR3, pd << 12);
        assertTrue(c.read(0xffff_fffeL, 4, false, r32.r).ok(), r32.r.toString());
        assertEquals(0xddcc_bbaaL, r32.r.value, "the second half comes from linear address 0");
        c.writeCr3(pd << 12); // an empty TLB
        assertTrue(c.read(0, 2, false, r32.r).ok());
        long hits = r32.mmu.stats().get(TdpCounter.TLB_HIT);
        assertTrue(c.read(0x1_0000_0000L, 2, false, r32.r).ok());
        assertEquals(0xddcc, r32.r.value, "bits 63:32 are dropped");
        assertEquals(hits + 1, r32.mmu.stats().get(TdpCounter.TLB_HIT), "the TLB entry of linear address 0 serves it");
        assertFalse(c.read(0x1_0000_0000L + 0x2000_0000L, 4, false, r32.r).ok());
        assertEquals(GuestWalk.PAGE_FAULT, r32.r.exception);
        assertEquals(0x2000_0000L, r32.vm.vcpu(0).get(Register.CR2), "CR2 holds the 32-bit linear address");
        r32.assertConsistent("wrap");
    }
}
