package org.shadowbox.mmu.internal.tdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.internal.TrackerRole;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * {@code policy=legacy} under TDP: KVM's TDP fault path before the page-track series, which
 * never asks page track; page track refuses external tracks on such a VM, and the checker
 * reports a track that got there anyway.
 */
class TdpLegacyTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    private static final long DIRTY = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;

    private static TdpRig rig(String policy) {
        TdpRig rig = new TdpRig("t", 64L << 20, 2, "64", 64, policy);
        long[][] ptes = {{PML4, 0, PDPT}, {PDPT, 0, PD}, {PD, 2, PT}, {PT, 0, DATA}};
        for (long[] p : ptes) {
            rig.mem.write((p[0] << 12) + 8 * p[1], (p[2] << 12) | DIRTY, 8);
        }
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        rig.vm.vcpu(1).set(Register.CR3, PML4 << 12);
        return rig;
    }

    @Test
    void anExternalTrackIsRefusedInOneLineAndChangesNothing() {
        TdpRig rig = rig(VmSpec.POLICY_LEGACY);
        assertTrue(rig.cpu(0).write(GVA, 1, 8, false, rig.r).ok());
        long leaf = rig.leaf(DATA);
        String m = assertThrows(VmException.class, () -> rig.external("kvmgt").add(rig.vm, DATA, TrackMode.WRITE))
                .getMessage();
        assertTrue(m.startsWith("cannot track pages of VM t (owner kvmgt): it runs mmu=tdp with policy=legacy")
                && m.indexOf('\n') < 0, m);
        assertEquals(0, rig.external("kvmgt").count(rig.vm, DATA, TrackMode.WRITE));
        assertEquals(leaf, rig.leaf(DATA), "the leaf is not write-protected");
        assertFalse(rig.cpu(0).tlbFlushPending(), "nothing flushed");
        assertEquals(0, rig.vm.slotForGfn(DATA).lpageDisallowCount(DATA, 2));
        rig.assertConsistent("refused");
    }

    /**
     * A track that exists anyway (here the MMU's own role, which page track does not refuse)
     * is not asked: a present write to the write-protected leaf takes the full path and maps
     * it writable again, the write runs natively and no notifier hears it; the checker
     * reports both the track (b) and the writable leaf over it (a). Under pagetrack the same
     * write is emulated and heard.
     */
    @Test
    void theFaultPathNeverAsksPageTrackAndTheCheckerSaysSo() {
        TdpRig legacy = rig(VmSpec.POLICY_LEGACY);
        TdpRig pagetrack = rig(VmSpec.POLICY_PAGETRACK);
        for (TdpRig rig : List.of(legacy, pagetrack)) {
            assertTrue(rig.cpu(0).write(GVA, 1, 8, false, rig.r).ok());
            rig.core.forOwner(TdpRig.MMU_BUNDLE, TrackerRole.MMU).add(rig.vm, DATA, TrackMode.WRITE);
            assertFalse(Spte.isWritable(rig.leaf(DATA)), "page track's hook write-protected the leaf");
            TdpStats before = rig.mmu.stats();
            assertTrue(rig.cpu(0).write(GVA + 8, 0x55, 8, false, rig.r).ok());
            TdpStats after = rig.mmu.stats();
            assertEquals(before.get(TdpCounter.PF_TAKEN) + 1, after.get(TdpCounter.PF_TAKEN), "one violation");
            if (rig == legacy) {
                assertFalse(rig.r.emulated, "not asked: the write ran natively");
                assertEquals(before.get(TdpCounter.PF_FIXED) + 1, after.get(TdpCounter.PF_FIXED), "the full path mapped it");
                assertEquals(before.get(TdpCounter.MMU_LOCK_FAULT) + 1, after.get(TdpCounter.MMU_LOCK_FAULT));
                assertEquals(0, after.get(TdpCounter.PAGE_TRACK_LOOKUPS), "page track never asked");
                assertTrue(Spte.isWritable(rig.leaf(DATA)), "mapped writable (4 KiB now): mmu_need_write_protect found no sp");
                assertEquals(List.of(), rig.writes, "no tracker heard it");
                List<String> v = rig.check();
                assertEquals(2, v.size(), v.toString());
                assertTrue(v.stream().anyMatch(s -> s.startsWith("(b) gfn 0x200 is write-tracked (count 1) on a"
                        + " policy=legacy VM")), v.toString());
                assertTrue(v.stream().anyMatch(s -> s.startsWith("(a) writable ") && s.endsWith("maps a write-tracked gfn")),
                        v.toString());
            } else {
                assertTrue(rig.r.emulated, "page_fault_handle_page_track");
                assertEquals(before.get(TdpCounter.PF_EMULATE_TRACKED) + 1, after.get(TdpCounter.PF_EMULATE_TRACKED));
                assertEquals(before.get(TdpCounter.PAGE_TRACK_LOOKUPS) + 1, after.get(TdpCounter.PAGE_TRACK_LOOKUPS));
                assertEquals(List.of("vcpu0 0x200008=0x55/8"), rig.writes);
                rig.assertConsistent("pagetrack");
            }
            assertEquals(0x55, rig.mem.read((DATA << 12) + 8, 8), "the guest's write landed either way");
        }
    }
}
