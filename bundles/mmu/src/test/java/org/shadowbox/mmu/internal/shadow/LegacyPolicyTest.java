package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmSpec;

/**
 * The legacy policy against the pagetrack policy on the same guest script: the guest sees the
 * same, the MMU holds no page-track count under legacy, and the stats show the extra work.
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
        assertEquals(p.pfEmulate, l.pfEmulate, "the same accesses are emulated: " + both);
        assertTrue(p.pfEmulateTracked >= 2, "pagetrack: present writes to tracked gfns go straight to emulation: " + both);
        assertEquals(0, l.pfEmulateTracked, both);
        assertEquals(p.pfEmulate, l.pfEmulateWp, "legacy: every emulation went through the full fault path: " + both);
        assertEquals(l.mmuLockFault, p.mmuLockFault + p.pfEmulateTracked, "legacy takes the MMU lock for each: " + both);
        assertEquals(l.pfFixed, p.pfFixed + p.pfEmulateTracked, "and makes a mapping attempt for each: " + both);
        assertTrue(l.hashChainSteps > p.hashChainSteps, "legacy walks the hash where pagetrack reads a count: " + both);
        assertEquals(0, p.pteWriteEmulator, both);
        assertEquals(l.mmuPteWriteFallback, p.mmuPteWriteFallback, "the same pte-write handler work: " + both);
        assertTrue(l.pteWriteEmulator >= l.mmuPteWriteFallback && l.pteWriteEmulator > 0,
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
}
