package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.shadowbox.pagetrack.TrackMode.WRITE;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.spi.MmuPageTrack;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;

/**
 * {@code kvm_page_track_is_active(vcpu, ...)} (SPI 1.2) answers as the VM-wide
 * {@code isActive(vm, ...)} does while tracks come and go and slots are created, moved and
 * deleted: the vCPU's own memslot lookup (its last-used slot) never answers from a slot of an
 * older generation. Seeded; the seed is printed on failure.
 */
class VcpuIsActiveTest {
    private static final int SLOT = 7;
    private static final long PAGES = 64;

    @Test
    void theVcpuLookupAnswersAsTheVmsThroughSlotChanges() {
        long seed = Long.getLong("shadowbox.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        Rig rig = new Rig();
        Vm vm = rig.pc("v", 16L << 20); // RAM at gfn 0 .. 4095 but the hole at 0xa0 .. 0xff
        MmuPageTrack mmuTrack = rig.core.forOwner("org.shadowbox.mmu", TrackerRole.MMU);
        Vcpu[] vcpus = {vm.vcpu(0), vm.vcpu(1)};
        long[] bases = {0x10000, 0x20000, 0x30000};
        long base = -1; // where the extra slot is, or -1
        int checks = 0;
        for (int step = 0; step < 400; step++) {
            String what;
            int op = rnd.nextInt(6);
            if (op == 0 && base < 0) {
                base = bases[rnd.nextInt(bases.length)];
                vm.createSlot(new SlotSpec(SLOT, base, PAGES, 0));
                what = "create at 0x" + Long.toHexString(base);
            } else if (op == 1 && base >= 0) {
                vm.deleteSlot(SLOT);
                what = "delete";
                base = -1;
            } else if (op == 2 && base >= 0) {
                long to = bases[rnd.nextInt(bases.length)];
                if (to != base) {
                    vm.moveSlot(SLOT, to); // the MMU role's tracks do not refuse a move; the new slot's counts are zero
                    base = to;
                }
                what = "move to 0x" + Long.toHexString(base);
            } else {
                long gfn = pick(rnd, base);
                if (vm.slotForGfn(gfn) == null) {
                    what = "nothing (0x" + Long.toHexString(gfn) + " is in the legacy VGA hole)";
                } else if (mmuTrack.count(vm, gfn, WRITE) > 0 && rnd.nextBoolean()) {
                    mmuTrack.remove(vm, gfn, WRITE);
                    what = "untrack 0x" + Long.toHexString(gfn);
                } else {
                    mmuTrack.add(vm, gfn, WRITE);
                    what = "track 0x" + Long.toHexString(gfn);
                }
            }
            // Both vCPUs look up places in RAM, in the extra slot wherever it is, and in holes,
            // so their last-used slots are filled when the next change comes.
            for (int k = 0; k < 12; k++) {
                long gfn = k < 6 ? pick(rnd, base) : bases[rnd.nextInt(bases.length)] + rnd.nextLong(PAGES);
                boolean want = vm.slotForGfn(gfn) != null && rig.core.isActive(vm, gfn, WRITE);
                for (Vcpu v : vcpus) {
                    assertEquals(want, mmuTrack.isActive(v, gfn, WRITE), "vCPU " + v.id() + ", gfn 0x"
                            + Long.toHexString(gfn) + ", step " + step + " (" + what + "); replay with -Dshadowbox.seed=" + seed);
                    checks++;
                }
            }
        }
        assertEquals(400 * 12 * 2, checks);
    }

    /** A gfn in RAM or in the extra slot (when there is one). */
    private static long pick(SplittableRandom rnd, long base) {
        return base >= 0 && rnd.nextBoolean() ? base + rnd.nextLong(PAGES) : rnd.nextLong(4096);
    }
}
