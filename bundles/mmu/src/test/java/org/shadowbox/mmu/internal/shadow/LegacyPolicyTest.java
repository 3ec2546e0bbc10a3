package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmSpec;

/**
 * The legacy policy against the pagetrack policy on the same guest script: the guest sees the
 * same, the MMU holds no page-track count under legacy, and the stats show the extra work. In
 * 64-bit paging, and in 32-bit paging, where one guest table is shadowed by several pages told
 * apart by role.quadrant: the legacy paths (rmap write-protect, the hash walk of
 * {@code mmu_need_write_protect}, the full fault path, the emulator's pte-write call) must
 * treat every quadrant page of a gfn as the page-track paths do.
 */
class LegacyPolicyTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x1013, DATA = 0x200, OTHER = 0x201;
    private static final long GVA = 0x40_0000L;
    private static final long PT_WINDOW = 0x40_1000L, PD_WINDOW = 0x40_2000L;
    private static final long DIRTY = ShadowRig.RWU | Pte.A | Pte.D;

    private static ShadowRig rig(String policy) {
        ShadowRig rig = new ShadowRig("t", 64L << 20, 2, 64, policy);
        long[] tables = {PDPT, PD, PT};
        rig.map4k(PML4, tables, GVA, DATA, DIRTY);
        rig.map4k(PML4, tables, PT_WINDOW, PT, DIRTY);
        rig.map4k(PML4, tables, PD_WINDOW, PD, DIRTY);
        rig.map4k(PML4, tables, GVA + 0x3000, OTHER, DIRTY);
        rig.mem.write(DATA << 12, 0x1111, 8);
        for (int i = 0; i < 2; i++) {
            rig.vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
        return rig;
    }

    /** A guest script that touches every rule; returns what the guest saw, one line per access. */
    private static String script(ShadowRig rig) {
        StringBuilder seen = new StringBuilder();
        VcpuMmu c0 = rig.cpu(0);
        VcpuMmu c1 = rig.cpu(1);
        PageTrack kvmgt = rig.external("kvmgt");
        seen.append(c0.read(GVA, 8, false, rig.r).guestView()).append('\n');
        seen.append(c0.write(PD_WINDOW + 8 * 7, 0, 8, false, rig.r).guestView()).append('\n'); // non-leaf table
        seen.append(c1.write(PD_WINDOW + 8 * 8, 0, 8, false, rig.r).guestView()).append('\n');
        seen.append(c0.read(GVA, 8, false, rig.r).guestView()).append('\n');
        seen.append(c0.write(PT_WINDOW + 8 * 9, 0, 8, false, rig.r).guestView()).append('\n'); // leaf table: unsync
        c0.invlpg(GVA);
        kvmgt.add(rig.vm, OTHER, TrackMode.WRITE);
        seen.append(c1.write(GVA + 0x3000, 0x55, 4, true, rig.r).guestView()).append('\n'); // external track
        seen.append(c1.write(GVA + 0x3000, 0x66, 4, true, rig.r).guestView()).append('\n');
        kvmgt.remove(rig.vm, OTHER, TrackMode.WRITE);
        seen.append(c1.write(GVA + 0x3004, 0x77, 4, true, rig.r).guestView()).append('\n');
        c0.writeCr3(PML4 << 12);
        seen.append(c0.read(GVA + 0x3000, 8, true, rig.r).guestView()).append('\n');
        seen.append(c0.write(PD_WINDOW + 8 * 9, 0, 8, false, rig.r).guestView()).append('\n');
        seen.append(rig.mem.read(PD << 12, 8) == rig.mem.read(PD << 12, 8) ? "" : "?");
        for (long gfn : new long[] {PML4, PDPT, PD, PT, DATA, OTHER}) {
            seen.append(Long.toHexString(rig.mem.read(gfn << 12, 8))).append(' ');
        }
        rig.assertConsistent(rig.mmu.policy + " after the script");
        return seen.toString();
    }

    @Test
    void theGuestSeesTheSameUnderBothPoliciesAndLegacyDoesMoreWork() {
        ShadowRig pt = rig(VmSpec.POLICY_PAGETRACK);
        ShadowRig legacy = rig(VmSpec.POLICY_LEGACY);
        assertEquals(script(pt), script(legacy));
        MmuStats p = pt.mmu.stats();
        MmuStats l = legacy.mmu.stats();
        String both = "pagetrack " + p + "\nlegacy " + l;
        assertEquals(p.get(MmuCounter.PF_EMULATE), l.get(MmuCounter.PF_EMULATE), "the same accesses are emulated: " + both);
        assertTrue(p.get(MmuCounter.PF_EMULATE_TRACKED) >= 2, "pagetrack: present writes to tracked gfns go straight to emulation: " + both);
        assertEquals(0, l.get(MmuCounter.PF_EMULATE_TRACKED), both);
        assertEquals(p.get(MmuCounter.PF_EMULATE), l.get(MmuCounter.PF_EMULATE_WP), "legacy: every emulation went through the full fault path: " + both);
        assertEquals(l.get(MmuCounter.MMU_LOCK_FAULT), p.get(MmuCounter.MMU_LOCK_FAULT) + p.get(MmuCounter.PF_EMULATE_TRACKED), "legacy takes the MMU lock for each: " + both);
        assertEquals(l.get(MmuCounter.PF_FIXED), p.get(MmuCounter.PF_FIXED) + p.get(MmuCounter.PF_EMULATE_TRACKED), "and makes a mapping attempt for each: " + both);
        assertTrue(l.get(MmuCounter.HASH_CHAIN_STEPS) > p.get(MmuCounter.HASH_CHAIN_STEPS), "legacy walks the hash where pagetrack reads a count: " + both);
        assertEquals(0, p.get(MmuCounter.PTE_WRITE_EMULATOR), both);
        assertEquals(l.get(MmuCounter.MMU_PTE_WRITE_FALLBACK), p.get(MmuCounter.MMU_PTE_WRITE_FALLBACK), "the same pte-write handler work: " + both);
        assertTrue(l.get(MmuCounter.PTE_WRITE_EMULATOR) >= l.get(MmuCounter.MMU_PTE_WRITE_FALLBACK) && l.get(MmuCounter.PTE_WRITE_EMULATOR) > 0,
                "legacy: the emulator called the handler directly: " + both);
    }

    @Test
    void underLegacyTheMmuHoldsNoPageTrackCountButTheSameLpageCounts() {
        ShadowRig pt = rig(VmSpec.POLICY_PAGETRACK);
        ShadowRig legacy = rig(VmSpec.POLICY_LEGACY);
        for (ShadowRig r : List.of(pt, legacy)) {
            assertTrue(r.cpu(0).read(GVA, 8, false, r.rr()).ok());
        }
        PageTrack pObs = pt.external("test.observer");
        PageTrack lObs = legacy.external("test.observer");
        for (long gfn : new long[] {PML4, PDPT, PD}) {
            assertEquals(1, pObs.count(pt.vm, gfn, TrackMode.WRITE), "pagetrack tracks gfn 0x" + Long.toHexString(gfn));
            assertEquals(0, lObs.count(legacy.vm, gfn, TrackMode.WRITE), "legacy does not: 0x" + Long.toHexString(gfn));
        }
        assertTrue(lObs.tracked(legacy.vm).isEmpty());
        for (long gfn : new long[] {PML4, PDPT, PD, PT}) {
            Memslot ps = pt.vm.slotForGfn(gfn);
            Memslot ls = legacy.vm.slotForGfn(gfn);
            for (int level = Memslot.LEVEL_2M; level <= Memslot.LEVEL_1G; level++) {
                assertEquals(ps.lpageDisallowCount(gfn, level), ls.lpageDisallowCount(gfn, level),
                        "has_wrprotected_page sees what page track's disallow gives, gfn 0x" + Long.toHexString(gfn));
            }
        }
        long spte = legacy.shadowLeaf(legacy.cpu(0), PD_WINDOW);
        assertTrue(Spte.isPresent(legacy.shadowLeaf(legacy.cpu(0), GVA)));
        assertEquals(0, spte, "not yet mapped");
        assertTrue(legacy.cpu(0).read(PD_WINDOW, 8, false, legacy.r).ok());
        assertFalse(Spte.isWritable(legacy.shadowLeaf(legacy.cpu(0), PD_WINDOW)),
                "the hash walk keeps the shadowed PD read-only");
        legacy.zapAllAndCheck();
        assertEquals(pt.vm.slotForGfn(PT).lpageDisallowCount(PT, 2) - 1, legacy.vm.slotForGfn(PT).lpageDisallowCount(PT, 2),
                "unaccount_shadowed gave the counts back");
    }

    @Test
    void theCheckerCatchesATrackLeftByTheMmuUnderLegacy() {
        ShadowRig legacy = rig(VmSpec.POLICY_LEGACY);
        assertTrue(legacy.cpu(0).read(GVA, 8, false, legacy.r).ok());
        legacy.mmu.pageTrack.add(legacy.vm, PD, TrackMode.WRITE); // as the pagetrack policy would
        List<String> v = MmuChecker.check(legacy.mmu);
        assertEquals(1, v.size(), v.toString());
        assertTrue(v.get(0).startsWith("(b) under the legacy policy the MMU holds 1 page-track count(s) of gfn 0x12"), v.get(0));
    }

    // ---- a 32-bit guest: quadrant pages ----

    private static final long PD32 = 0x10, PT32 = 0x13;
    /** PDE 1: PT entries 0 (level-1 quadrant 0) and 512 (quadrant 1); PDE 0x300: quadrant 3 of the PD. */
    private static final long LO32 = 0x40_0000L, HI32 = 0x60_0000L, KERNEL32 = 0xc000_0000L;
    private static final long PT_WINDOW32 = 0x40_1000L, PD_WINDOW32 = 0x40_2000L;

    private static ShadowRig rig32(String policy) {
        ShadowRig rig = new ShadowRig("t", 64L << 20, 2, 64, PagingMode.BITS32, policy);
        rig.pte32(PD32, 1, (PT32 << 12) | ShadowRig.RWU);
        rig.pte32(PD32, 0x300, (PT32 << 12) | ShadowRig.RWU);
        rig.pte32(PT32, 0, (DATA << 12) | DIRTY);
        rig.pte32(PT32, 512, (OTHER << 12) | DIRTY);
        rig.pte32(PT32, 1, (PT32 << 12) | DIRTY);
        rig.pte32(PT32, 2, (PD32 << 12) | DIRTY);
        rig.mem.write(DATA << 12, 0x1111, 8);
        rig.mem.write(OTHER << 12, 0x2222, 8);
        for (int i = 0; i < 2; i++) {
            rig.vm.vcpu(i).set(Register.CR3, PD32 << 12);
        }
        return rig;
    }

    /** The quadrant pages of {@code gfn} at {@code level}, by quadrant (null where none). */
    private static ShadowPage[] quadrants(ShadowRig rig, long gfn, int level) {
        ShadowPage[] out = new ShadowPage[4];
        for (ShadowPage sp : rig.mmu.shadowPages()) {
            if (sp.gfn() == gfn && sp.level() == level && !sp.direct() && !sp.invalid()) {
                out[Role.quadrant(sp.role())] = sp;
            }
        }
        return out;
    }

    /** A 32-bit guest script over every quadrant rule; returns what the guest saw. */
    private static String script32(ShadowRig rig) {
        StringBuilder seen = new StringBuilder();
        VcpuMmu c0 = rig.cpu(0);
        VcpuMmu c1 = rig.cpu(1);
        for (long gva : new long[] {LO32, HI32, KERNEL32, PD_WINDOW32}) {
            seen.append(c0.read(gva, 8, false, rig.r).guestView()).append('\n');
        }
        String policy = rig.mmu.policy.toString();
        ShadowPage[] pd = quadrants(rig, PD32, 2);
        ShadowPage[] pt = quadrants(rig, PT32, 1);
        for (int q = 0; q < 4; q++) {
            assertTrue(pd[q] != null && pd[q].rootCount() == 1, policy + ": PD quadrant " + q + " is a root");
        }
        assertTrue(pt[0] != null && pt[1] != null, policy + ": both halves of the PT are shadowed");
        assertFalse(Spte.isWritable(rig.shadowLeaf(c0, PD_WINDOW32)), policy + ": the shadowed PD stays read-only");
        rig.assertConsistent(policy + " shadowed");
        // A PD write through the window: emulated, and every quadrant of the PD zapped.
        seen.append(c1.write(PD_WINDOW32 + 4 * 5, 0, 4, false, rig.r).guestView()).append('\n');
        assertTrue(rig.r.emulated, policy);
        for (int q = 0; q < 4; q++) {
            assertTrue(pd[q].invalid(), policy + ": PD quadrant " + q + " zapped by the pte-write handler");
        }
        seen.append(c0.read(KERNEL32, 8, false, rig.r).guestView()).append('\n');
        // A PT write: the PT's two quadrant pages go unsync together; the write is direct.
        pt = quadrants(rig, PT32, 1);
        seen.append(c0.read(HI32, 8, false, rig.r).guestView()).append('\n');
        pt = quadrants(rig, PT32, 1);
        seen.append(c0.write(PT_WINDOW32 + 4 * 512, (DATA << 12) | DIRTY, 4, false, rig.r).guestView()).append('\n');
        assertFalse(rig.r.emulated, policy + ": an unsync PT is written directly");
        assertTrue(pt[0].unsync() && pt[1].unsync(), policy + ": every quadrant page of the PT is unsync");
        rig.assertConsistent(policy + " unsync");
        c0.writeCr3(PD32 << 12);
        assertFalse(pt[0].unsync() || pt[1].unsync(), policy + ": resynced at the CR3 write");
        seen.append(c0.read(HI32, 8, false, rig.r).guestView()).append('\n');
        // An external track keeps the PT synced: the next PT write is emulated, both halves zapped.
        rig.external("kvmgt").add(rig.vm, PT32, TrackMode.WRITE);
        pt = quadrants(rig, PT32, 1);
        seen.append(c1.write(PT_WINDOW32 + 4 * 512, (OTHER << 12) | DIRTY, 4, false, rig.r).guestView()).append('\n');
        assertTrue(rig.r.emulated, policy);
        assertTrue(pt[0].invalid() && pt[1].invalid(), policy + ": both PT quadrants zapped");
        seen.append(c0.read(HI32, 8, false, rig.r).guestView()).append('\n');
        seen.append(c0.read(LO32, 8, false, rig.r).guestView()).append('\n');
        for (long gfn : new long[] {PD32, PT32, DATA, OTHER}) {
            seen.append(Long.toHexString(rig.mem.read(gfn << 12, 8))).append(' ');
            seen.append(Long.toHexString(rig.mem.read((gfn << 12) + 2048, 8))).append(' ');
        }
        rig.assertConsistent(policy + " after the 32-bit script");
        return seen.toString();
    }

    @Test
    void quadrantPagesOfA32BitGuestAreWriteProtectedUnsyncedAndZappedAlikeUnderBothPolicies() {
        ShadowRig pt = rig32(VmSpec.POLICY_PAGETRACK);
        ShadowRig legacy = rig32(VmSpec.POLICY_LEGACY);
        assertEquals(script32(pt), script32(legacy));
        MmuStats p = pt.mmu.stats();
        MmuStats l = legacy.mmu.stats();
        String both = "pagetrack " + p + "\nlegacy " + l;
        assertEquals(p.get(MmuCounter.PF_EMULATE), l.get(MmuCounter.PF_EMULATE), both);
        assertEquals(2, p.get(MmuCounter.PF_EMULATE_TRACKED), "pagetrack: both emulated writes took the fast return: " + both);
        assertEquals(0, l.get(MmuCounter.PF_EMULATE_TRACKED), both);
        assertEquals(p.get(MmuCounter.PF_EMULATE), l.get(MmuCounter.PF_EMULATE_WP), "legacy: the full fault path before each emulation: " + both);
        assertEquals(p.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED), l.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED),
                "4 PD quadrants, then 2 PT halves: " + both);
        assertEquals(6, l.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED), both);
        assertEquals(p.get(MmuCounter.MMU_UNSYNC), l.get(MmuCounter.MMU_UNSYNC), "the hash walk unsynced every quadrant page: " + both);
        assertTrue(l.get(MmuCounter.PTE_WRITE_EMULATOR) >= 2 && p.get(MmuCounter.PTE_WRITE_EMULATOR) == 0, both);
    }

    @Test
    void underLegacyA32BitGuestsQuadrantPagesHoldNoTrackButTheSameLpageCounts() {
        ShadowRig pt = rig32(VmSpec.POLICY_PAGETRACK);
        ShadowRig legacy = rig32(VmSpec.POLICY_LEGACY);
        // The slot's own count for a frame it does not wholly cover (the MMIO hole at 0xa0).
        int base = legacy.vm.slotForGfn(PD32).lpageDisallowCount(PD32, Memslot.LEVEL_2M);
        for (ShadowRig r : List.of(pt, legacy)) {
            for (long gva : new long[] {LO32, HI32, KERNEL32}) {
                assertTrue(r.cpu(0).read(gva, 8, false, r.rr()).ok());
            }
        }
        assertEquals(4, pt.external("obs").count(pt.vm, PD32, TrackMode.WRITE), "pagetrack: one track per PD quadrant");
        assertTrue(legacy.external("obs").tracked(legacy.vm).isEmpty(), "legacy: none");
        for (long gfn : new long[] {PD32, PT32}) {
            for (int level = Memslot.LEVEL_2M; level <= Memslot.LEVEL_1G; level++) {
                assertEquals(pt.vm.slotForGfn(gfn).lpageDisallowCount(gfn, level),
                        legacy.vm.slotForGfn(gfn).lpageDisallowCount(gfn, level),
                        "one disallow per quadrant page under both, gfn 0x" + Long.toHexString(gfn));
            }
        }
        assertEquals(base + 4 + 2, legacy.vm.slotForGfn(PD32).lpageDisallowCount(PD32, Memslot.LEVEL_2M),
                "the PD's 4 quadrant pages and the PT's 2 share one 2 MiB frame");
        legacy.zapAllAndCheck();
        assertEquals(base, legacy.vm.slotForGfn(PD32).lpageDisallowCount(PD32, Memslot.LEVEL_2M),
                "unaccount_shadowed gave back every quadrant's count");
    }

    /**
     * A directory the guest wrote through a writable spte before it became a root: creating its
     * quadrant pages must take write access away (legacy: {@code rmap_write_protect} in
     * {@code kvm_mmu_get_page} at every level; pagetrack: page track's add_page).
     */
    @Test
    void aDirectoryShadowedLaterLosesItsWritableSpteUnderBothPolicies() {
        long pd2 = 0x14, pd2Window = 0x40_3000L;
        for (String policy : List.of(VmSpec.POLICY_PAGETRACK, VmSpec.POLICY_LEGACY)) {
            ShadowRig rig = rig32(policy);
            rig.pte32(PT32, 3, (pd2 << 12) | DIRTY);
            rig.pte32(pd2, 1, (PT32 << 12) | ShadowRig.RWU);
            VcpuMmu c0 = rig.cpu(0);
            assertTrue(c0.write(pd2Window + 4 * 7, 0, 4, false, rig.r).ok());
            assertFalse(rig.r.emulated, policy + ": not yet a shadowed table");
            assertTrue(Spte.isWritable(rig.shadowLeaf(c0, pd2Window)), policy);
            c0.writeCr3(pd2 << 12);
            assertTrue(c0.read(LO32, 8, false, rig.r).ok(), policy + ": " + rig.r);
            ShadowPage[] q = quadrants(rig, pd2, 2);
            for (int i = 0; i < 4; i++) {
                assertTrue(q[i] != null && q[i].rootCount() == 1, policy + ": quadrant " + i + " of the new root");
            }
            assertFalse(Spte.isWritable(rig.shadowLeaf(c0, pd2Window)), policy + ": the window lost write access");
            rig.assertConsistent(policy + " after the CR3 write");
            assertTrue(c0.write(pd2Window + 4 * 8, 0, 4, false, rig.r).ok());
            assertTrue(rig.r.emulated, policy + ": a write to the shadowed directory is emulated");
            for (int i = 0; i < 4; i++) {
                assertTrue(q[i].invalid(), policy + ": the pte-write handler zapped root quadrant " + i);
            }
            // Only roots were zapped: no remote flush from the zap (pagetrack has none pending at
            // all), but a reload pending, which flushes the TLB; the checker accepts that state.
            assertTrue(c0.tlbFlushPending() == rig.mmu.policy.toString().equals(VmSpec.POLICY_LEGACY),
                    policy + ": legacy's full fault path requested a flush, pagetrack's fast return none");
            rig.assertConsistent(policy + " after the emulated write, before the reload");
            long hits = rig.mmu.stats().get(MmuCounter.TLB_HIT);
            assertTrue(c0.read(LO32, 8, false, rig.r).ok(), policy + ": " + rig.r);
            assertEquals(hits, rig.mmu.stats().get(MmuCounter.TLB_HIT),
                    policy + ": the reload flushed the TLB: no hit on the old entry");
            assertNotSame(q[0], c0.paeRoot(0), policy);
            rig.assertConsistent(policy + " reloaded");
        }
    }
}
