package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;

/**
 * KVM's nonpaging context (CR0.PG clear, {@code nonpaging_init_context}): the identity map served
 * by direct shadow pages under a PAE root, {@code nonpaging_page_fault}'s page-track check, large
 * pages where {@code lpage_info} allows, and the context reset when CR0.PG toggles. The checker
 * runs after every step.
 */
class NonpagingTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    /** CR0 with paging off: protected mode, ET. */
    private static final long CR0_OFF = Register.CR0_PE | 0x10L;
    /** A 2 MiB frame well inside the VM's memory, and a gfn in it. */
    private static final long FRAME = 0x800, INSIDE = 0x8a0;

    private final ShadowRig rig = new ShadowRig();
    private final VcpuMmu cpu0 = rig.cpu(0);

    NonpagingTest() {
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, ShadowRig.RWU | Pte.A | Pte.D);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(GVA, 0x4444, 8); // gpa 0x400000: what the gva reads with paging off
        for (int i = 0; i < 2; i++) {
            rig.vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
    }

    private void pagingOff(int v) {
        long cr3 = rig.vm.vcpu(v).get(Register.CR3);
        rig.vm.vcpu(v).reset(); // x86 leaves long mode only through INIT: CR0.PG cannot be cleared in it
        rig.vm.vcpu(v).set(Register.CR0, CR0_OFF);
        rig.vm.vcpu(v).set(Register.CR3, cr3);
        rig.vm.vcpu(v).set(Register.EFER, 0);
        rig.vm.vcpu(v).set(Register.CR4, 0);
    }

    private void pagingOn64(int v) {
        rig.vm.vcpu(v).set(Register.CR4, ShadowRig.CR4);
        rig.vm.vcpu(v).set(Register.EFER, ShadowRig.EFER);
        rig.vm.vcpu(v).set(Register.CR0, ShadowRig.CR0);
    }

    @Test
    void theGvasThirtyTwoBitsAreTheGpaServedByDirectPages() {
        pagingOff(0);
        MmuStats before = rig.mmu.stats();
        assertTrue(cpu0.read(0x7_0000_0000L | (DATA << 12), 8, false, rig.r).ok(), "high bits are dropped: " + rig.r);
        assertEquals(0x1111, rig.r.value);
        assertEquals(DATA << 12, rig.r.gpa);
        assertTrue(cpu0.nonpaging());
        assertNull(cpu0.mode());
        assertEquals(before.get(MmuCounter.GUEST_WALK_STEPS), rig.mmu.stats().get(MmuCounter.GUEST_WALK_STEPS), "no guest tables to walk");
        List<ShadowPage> path = rig.shadowPath(cpu0, DATA << 12);
        assertTrue(path.stream().allMatch(ShadowPage::direct), "only direct pages: " + path);
        assertEquals(DATA >>> 18 << 18, path.get(0).gfn(), "the PAE root entry of gva bits 31:30");
        for (int i = 0; i < 4; i++) {
            ShadowPage root = cpu0.paeRoot(i);
            assertTrue(root.direct() && root.level() == 2 && root.gfn() == (long) i << 18, "root " + i + ": " + root);
        }
        assertEquals(0, rig.mmu.indirectShadowPages, "nothing of the guest is shadowed");
        rig.assertConsistent("after a paging-off read");

        assertTrue(cpu0.write((DATA << 12) + 8, 0xbeef, 4, false, rig.r).ok());
        assertFalse(rig.r.emulated, "an untracked gfn is written through a writable spte");
        assertEquals(0xbeef, rig.mem.read((DATA << 12) + 8, 4));
        assertTrue(Spte.isWritable(rig.shadowLeaf(cpu0, DATA << 12)));
        assertTrue(rig.writes.isEmpty(), "no notifier hears a direct write: " + rig.writes);
        rig.assertConsistent("after a paging-off write");

        assertTrue(cpu0.read(GVA, 8, true, rig.r).ok(), "a user access too: the identity map is ACC_ALL");
        assertEquals(0x4444, rig.r.value);
        rig.assertConsistent("after a user read");
    }

    @Test
    void aWriteToATrackedGfnIsEmulatedHeardAndNeverMappedWritable() {
        pagingOff(0);
        PageTrack kvmgt = rig.external("kvmgt");
        kvmgt.add(rig.vm, DATA, TrackMode.WRITE);
        MmuStats before = rig.mmu.stats();
        assertTrue(cpu0.write((DATA << 12) + 16, 0xabcd, 4, false, rig.r).ok());
        assertTrue(rig.r.emulated, "not present: mapped read-only, then emulated");
        MmuStats after = rig.mmu.stats();
        assertEquals(before.get(MmuCounter.PF_EMULATE_WP) + 1, after.get(MmuCounter.PF_EMULATE_WP));
        long spte = rig.shadowLeaf(cpu0, DATA << 12);
        assertTrue(Spte.isPresent(spte) && !Spte.isWritable(spte), Spte.describe(spte));
        assertEquals(1, rig.shadowLeafLevel(cpu0, DATA << 12), "a tracked gfn allows no large page over it");
        assertEquals(List.of("vcpu0 0x200010=0xabcd/4"), rig.writes, "emulator_write_phys: page track's notifiers");
        assertEquals(0xabcd, rig.mem.read((DATA << 12) + 16, 4));
        rig.assertConsistent("after the first tracked write");

        assertTrue(cpu0.write((DATA << 12) + 24, 0x5678, 2, false, rig.r).ok());
        assertTrue(rig.r.emulated);
        MmuStats again = rig.mmu.stats();
        assertEquals(after.get(MmuCounter.PF_EMULATE_TRACKED) + 1, again.get(MmuCounter.PF_EMULATE_TRACKED), "present: page_fault_handle_page_track");
        assertEquals(after.get(MmuCounter.PF_FIXED), again.get(MmuCounter.PF_FIXED), "no mapping attempt");
        assertEquals("vcpu0 0x200018=0x5678/2", rig.writes.get(1));
        assertFalse(Spte.isWritable(rig.shadowLeaf(cpu0, DATA << 12)));
        rig.assertConsistent("after the second tracked write");

        kvmgt.remove(rig.vm, DATA, TrackMode.WRITE);
        assertTrue(cpu0.write((DATA << 12) + 24, 0x9999, 2, false, rig.r).ok());
        assertFalse(rig.r.emulated, "untracked: write access comes back at the next write fault");
        assertTrue(Spte.isWritable(rig.shadowLeaf(cpu0, DATA << 12)));
        rig.assertConsistent("after untracking");
    }

    @Test
    void aLargePageMapsAFrameUntilAGfnInsideIsTracked() {
        pagingOff(0);
        assertTrue(cpu0.write(FRAME << 12, 7, 8, false, rig.r).ok());
        assertEquals(2, rig.shadowLeafLevel(cpu0, FRAME << 12), "a 2 MiB spte: the frame is not disallowed");
        assertEquals(2, rig.shadowLeafLevel(cpu0, INSIDE << 12));
        assertTrue(Spte.isWritable(rig.shadowLeaf(cpu0, INSIDE << 12)));
        rig.assertConsistent("after the large mapping");

        rig.external("kvmgt").add(rig.vm, INSIDE, TrackMode.WRITE);
        assertFalse(Spte.isWritable(rig.shadowLeaf(cpu0, INSIDE << 12)), "add_page write-protects the large spte");
        rig.assertConsistent("after tracking a gfn inside");
        rig.writes.clear();

        assertTrue(cpu0.write((FRAME + 1) << 12, 9, 8, false, rig.r).ok());
        assertFalse(rig.r.emulated, "another gfn of the frame is mapped again, writable");
        assertEquals(1, rig.shadowLeafLevel(cpu0, (FRAME + 1) << 12), "the large page is broken into 4 KiB sptes");
        assertTrue(Spte.isWritable(rig.shadowLeaf(cpu0, (FRAME + 1) << 12)));
        rig.assertConsistent("after the write beside the tracked gfn");

        assertTrue(cpu0.write(INSIDE << 12, 3, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "the tracked gfn itself is emulated");
        assertEquals(List.of("vcpu0 0x8a0000=0x3/8"), rig.writes);
        assertFalse(Spte.isWritable(rig.shadowLeaf(cpu0, INSIDE << 12)));
        rig.assertConsistent("after the tracked write");
    }

    @Test
    void togglingCr0PgResetsTheContext() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value, "paging on: the guest's tables");
        ShadowPage root64 = cpu0.root();
        assertNotNull(root64);
        rig.assertConsistent("paging on");

        pagingOff(0);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x4444, rig.r.value, "paging off: no stale TLB entry, the gva is the gpa");
        assertNull(cpu0.root(), "kvm_mmu_reset_context let the 64-bit root go");
        assertEquals(0, root64.rootCount);
        assertTrue(cpu0.nonpaging());
        rig.assertConsistent("paging off");

        pagingOn64(0);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value, "paging on again: the guest's tables");
        assertFalse(cpu0.nonpaging());
        assertSame(PagingMode.LONG, cpu0.mode());
        for (int i = 0; i < 4; i++) {
            assertNull(cpu0.paeRoot(i), "the direct roots were let go");
        }
        rig.assertConsistent("paging on again");
    }

    @Test
    void aPagingOffWriteToAShadowedTableReachesTheMmusOwnNotifier() {
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok()); // shadows PML4, PDPT, PD (tracked) and PT
        pagingOff(0);
        MmuStats before = rig.mmu.stats();
        long newPte = (PT << 12) | ShadowRig.RWU; // the PD entry, rewritten with A clear
        assertTrue(cpu0.write((PD << 12) + 8L * PageFault.index(GVA, 2), newPte, 8, false, rig.r).ok());
        assertTrue(rig.r.emulated, "the PD is write-tracked by the MMU");
        assertTrue(rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_FALLBACK) > before.get(MmuCounter.MMU_PTE_WRITE_FALLBACK), "the MMU's notifier heard it");
        rig.assertConsistent("after the table write with paging off");
        assertTrue(cpu0.write((PT << 12), (DATA << 12) | ShadowRig.RWU | Pte.A | Pte.D, 8, false, rig.r).ok());
        rig.assertConsistent("after a leaf-table write with paging off (unsync or emulated)");
        pagingOn64(0);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(0x1111, rig.r.value);
        rig.assertConsistent("paging on again");
    }

    @Test
    void invlpgAndCr3WritesWithPagingOffExitAndFlush() {
        pagingOff(0);
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        MmuStats before = rig.mmu.stats();
        cpu0.invlpg(GVA);
        cpu0.writeCr3(PML4 << 12);
        MmuStats after = rig.mmu.stats();
        assertEquals(before.get(MmuCounter.INVLPG) + 1, after.get(MmuCounter.INVLPG));
        assertEquals(before.get(MmuCounter.EXITS) + 2, after.get(MmuCounter.EXITS));
        assertTrue(after.get(MmuCounter.TLB_FLUSH) >= before.get(MmuCounter.TLB_FLUSH) + 2);
        assertEquals(PML4 << 12, rig.vm.vcpu(0).get(Register.CR3));
        MmuStats miss = rig.mmu.stats();
        assertTrue(cpu0.read(GVA, 8, false, rig.r).ok());
        assertEquals(miss.get(MmuCounter.TLB_MISS) + 1, rig.mmu.stats().get(MmuCounter.TLB_MISS), "flushed: the next access misses");
        assertEquals(0x4444, rig.r.value);
        rig.assertConsistent("after invlpg and a CR3 write with paging off");
    }

    @Test
    void smepAndSmapDoNotApplyWithPagingOffAndTheWorkIsSupervisors() {
        pagingOff(0);
        rig.vm.vcpu(0).set(Register.CR4, Register.CR4_SMEP | Register.CR4_SMAP);
        assertTrue(cpu0.access(DATA << 12, 0, 4, Pfec.FETCH, rig.r).ok(), "a supervisor fetch from a U spte");
        assertTrue(cpu0.read(DATA << 12, 8, false, rig.r).ok(), "a supervisor read with EFLAGS.AC clear");
        assertTrue(cpu0.read(DATA << 12, 8, true, rig.r).ok());
        assertEquals(0, cpu0.meter().accesses(true), "a paging-off guest is charged as supervisor");
        assertEquals(3, cpu0.meter().accesses(false));
        assertTrue(cpu0.meter().work(false).get(MmuCounter.EXITS) > 0, "its #PF exits are the supervisor's work");
        assertEquals(0, cpu0.meter().work(true).get(MmuCounter.EXITS));
        rig.assertConsistent("after SMEP/SMAP accesses");
    }
}
