package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;

/** get_page's accounting, the zap protocol and page track's write-protect hook. */
class ZapAndWriteProtectTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x1013, DATA = 0x200; // PT alone in its 2 MiB frame
    private static final long GVA = 0x40_0000L;

    private final ShadowRig rig = new ShadowRig();
    private final PageTrack counts = rig.external("test.observer");

    ZapAndWriteProtectTest() {
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, ShadowRig.RWU | Pte.A | Pte.D);
        for (int i = 0; i < 2; i++) {
            rig.vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
    }

    private int track(long gfn) {
        return counts.count(rig.vm, gfn, TrackMode.WRITE);
    }

    @Test
    void nonLeafPagesWriteTrackTheirGfnAndALeafPageOnlyDisallowsLargePages() {
        Memslot slot = rig.vm.slotForGfn(PT);
        int lpageBefore = slot.lpageDisallowCount(PT, 2);
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        assertEquals(1, track(PML4));
        assertEquals(1, track(PDPT));
        assertEquals(1, track(PD));
        assertEquals(0, track(PT), "a level-1 page is not write-tracked");
        assertEquals(lpageBefore + 1, slot.lpageDisallowCount(PT, 2), "but it disallows large pages");
        assertEquals(4, rig.mmu.stats().get(MmuCounter.MMU_CACHE_MISS));
        assertEquals(3, counts.tracked(rig.vm).stream().filter(t -> t.owners().containsKey(ShadowRig.MMU_BUNDLE))
                .count(), "the tracks are the MMU's own");
        rig.assertConsistent("after the first fault");
    }

    @Test
    void aZapUnaccountsFlushesRemoteTlbsAndAHeldRootWaitsForItsVcpu() {
        Memslot slot = rig.vm.slotForGfn(PT);
        int lpageBefore = slot.lpageDisallowCount(PT, 2);
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        assertTrue(rig.cpu(1).read(GVA, 8, false, rig.r).ok());
        ShadowPage oldRoot = rig.cpu(0).root();
        long flushes = rig.mmu.stats().get(MmuCounter.REMOTE_TLB_FLUSH);
        rig.mmu.zapAll();
        assertEquals(0, track(PML4) + track(PDPT) + track(PD));
        assertEquals(lpageBefore, slot.lpageDisallowCount(PT, 2));
        assertEquals(4, rig.mmu.stats().get(MmuCounter.MMU_SHADOW_ZAPPED));
        assertEquals(flushes + 1, rig.mmu.stats().get(MmuCounter.REMOTE_TLB_FLUSH), "one flush at commit");
        assertTrue(rig.cpu(0).tlbFlushPending() && rig.cpu(1).tlbFlushPending(), "a request on every vCPU");
        assertTrue(oldRoot.invalid());
        assertEquals(2, oldRoot.rootCount(), "both vCPUs still hold the zapped root");
        assertEquals(1, rig.mmu.shadowPages().size(), "only the held root is left");
        rig.assertConsistent("after zap");
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        assertNotSame(oldRoot, rig.cpu(0).root(), "an invalidated root is dropped");
        assertEquals(1, oldRoot.rootCount());
        assertTrue(rig.cpu(1).read(GVA, 8, false, rig.r).ok());
        assertFalse(rig.mmu.shadowPages().contains(oldRoot), "freed when its last vCPU let go");
        rig.assertConsistent("after reload");
    }

    @Test
    void theWriteProtectHookClearsBothWritableBitsAndFlushesOnlyOnChange() {
        assertTrue(rig.cpu(0).write(GVA, 0x1234, 8, false, rig.r).ok());
        long spte = rig.shadowLeaf(rig.cpu(0), GVA);
        assertEquals(Spte.WRITABLE | Spte.MMU_WRITEABLE, spte & (Spte.WRITABLE | Spte.MMU_WRITEABLE));
        long flushes = rig.mmu.stats().get(MmuCounter.REMOTE_TLB_FLUSH);
        PageTrack gvt = rig.external("kvmgt");
        gvt.add(rig.vm, DATA, TrackMode.WRITE);
        spte = rig.shadowLeaf(rig.cpu(0), GVA);
        assertEquals(0, spte & (Spte.WRITABLE | Spte.MMU_WRITEABLE), "W and MMU-writable cleared");
        assertTrue(Spte.isPresent(spte), "the mapping stays, read-only");
        assertEquals(flushes + 1, rig.mmu.stats().get(MmuCounter.REMOTE_TLB_FLUSH));
        assertEquals(1, rig.mmu.stats().get(MmuCounter.GFN_WRITE_PROTECT));
        gvt.add(rig.vm, DATA, TrackMode.WRITE);
        assertEquals(flushes + 1, rig.mmu.stats().get(MmuCounter.REMOTE_TLB_FLUSH), "nothing changed: no flush");
        rig.assertConsistent("tracked twice");
        gvt.remove(rig.vm, DATA, TrackMode.WRITE);
        gvt.remove(rig.vm, DATA, TrackMode.WRITE);
        assertEquals(0, rig.shadowLeaf(rig.cpu(0), GVA) & Spte.WRITABLE, "remove touches no spte");
        long fixed = rig.mmu.stats().get(MmuCounter.PF_FIXED);
        assertTrue(rig.cpu(0).write(GVA, 0x5678, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated);
        assertEquals(fixed + 1, rig.mmu.stats().get(MmuCounter.PF_FIXED), "write access comes back on the next write fault");
        assertTrue(Spte.isWritable(rig.shadowLeaf(rig.cpu(0), GVA)));
        assertEquals(0x5678, rig.mem.read(DATA << 12, 8));
        rig.assertConsistent("untracked");
    }

    @Test
    void deletingASlotZapsEverythingFirst() {
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        rig.vm.createSlot(new org.shadowbox.vm.SlotSpec(5, 0x8000, 16, 0));
        assertEquals(0, rig.mmu.stats().get(MmuCounter.MMU_SHADOW_ZAPPED), "creating a slot zaps nothing");
        rig.vm.deleteSlot(5);
        assertEquals(4, rig.mmu.stats().get(MmuCounter.MMU_SHADOW_ZAPPED));
        assertEquals(0, track(PML4) + track(PDPT) + track(PD));
        rig.assertConsistent("after slot delete");
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        rig.assertConsistent("after re-shadowing");
    }
}
