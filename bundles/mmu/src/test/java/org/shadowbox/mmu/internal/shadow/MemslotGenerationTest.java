package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.SlotSpec;

/**
 * The shadow fault path finds slots and reads guest tables through each vCPU's own caches
 * ({@code kvm_vcpu_gfn_to_memslot}'s {@code last_used_slot}, the host pages read last); those
 * must be dropped with the memslots generation, as KVM's are. A seeded random sequence moves,
 * deletes and re-creates a slot that holds data pages and one guest page table while two vCPUs
 * read and write through it, against a plain model: a gfn outside every slot reads all ones (an
 * emulated MMIO read) and drops writes, a walk through a table outside every slot is the guest's
 * fault, and memory moves with its slot. The MMU checker runs after every step. A stale slot or
 * page would map the old frame, or walk a table that is no longer there. The seed is printed on
 * failure; replay one with -Dshadowbox.seed=N.
 */
class MemslotGenerationTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13;
    /** Slot 5, 32 pages, lives at one of these two bases (or nowhere). */
    private static final long BASE_A = 0x8000, BASE_B = 0x9000;
    private static final int SLOT = 5, SLOT_PAGES = 32;
    /** The second page table, in slot 5 at offset 0x10 when the slot is at {@link #BASE_A}. */
    private static final long PT2 = BASE_A + 0x10;
    /** Data pages of slot 0 that PT2 maps. */
    private static final long DATA2 = 0x100;
    /** PT maps 32 pages here: 16 into BASE_A's first pages, 16 into BASE_B's. */
    private static final long GVA = 0x4000_0000L;
    /** PT2 maps 8 pages here (PD entry 1 of the same PD). */
    private static final long GVA2 = GVA + (1L << 21);
    private static final int STEPS = 300;

    static List<Long> seeds() {
        String fixed = System.getProperty("shadowbox.seed");
        if (fixed != null) {
            return List.of(Long.decode(fixed));
        }
        List<Long> seeds = new ArrayList<>();
        for (long s = 1; s <= 6; s++) {
            seeds.add(s * 0x2545_f491_4f6c_dd1dL);
        }
        return seeds;
    }

    private ShadowRig rig;
    /** Slot 5's base gfn, or -1 while it does not exist. */
    private long base;
    /** Slot 5's memory by offset in the slot (8-byte aligned), and slot 0's data pages by gpa. */
    private final Map<Long, Long> slotBytes = new HashMap<>();
    private final Map<Long, Long> data2 = new HashMap<>();

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aMovedOrDeletedSlotIsNeverReachedThroughAVcpusCache(long seed) {
        Random rnd = new Random(seed);
        rig = new ShadowRig();
        long leaf = ShadowRig.RWU | Pte.A | Pte.D;
        rig.pte(PML4, PageFault.index(GVA, 4), (PDPT << 12) | ShadowRig.RWU | Pte.A);
        rig.pte(PDPT, PageFault.index(GVA, 3), (PD << 12) | ShadowRig.RWU | Pte.A);
        rig.pte(PD, PageFault.index(GVA, 2), (PT << 12) | ShadowRig.RWU | Pte.A);
        rig.pte(PD, PageFault.index(GVA2, 2), (PT2 << 12) | ShadowRig.RWU | Pte.A);
        for (int i = 0; i < 32; i++) {
            rig.pte(PT, i, (dataGfn(i) << 12) | leaf);
        }
        for (int i = 0; i < 2; i++) {
            rig.vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
        create(BASE_A);
        for (int step = 0; step < STEPS; step++) {
            String ctx = "seed " + seed + " step " + step + ": ";
            int op = rnd.nextInt(12);
            if (op == 0) {
                if (base >= 0) {
                    long to = base == BASE_A ? BASE_B : BASE_A;
                    rig.vm.moveSlot(SLOT, to);
                    base = to;
                }
            } else if (op == 1) {
                if (base >= 0) {
                    rig.vm.deleteSlot(SLOT);
                    base = -1;
                    slotBytes.clear();
                } else {
                    create(rnd.nextBoolean() ? BASE_A : BASE_B);
                }
            } else {
                VcpuMmu cpu = rig.cpu(rnd.nextInt(2));
                boolean write = rnd.nextInt(3) == 0;
                long value = rnd.nextLong();
                if (rnd.nextInt(3) == 0) {
                    access(ctx, cpu, GVA2 + ((long) rnd.nextInt(8) << 12) + 8L * rnd.nextInt(512), write, value);
                } else {
                    access(ctx, cpu, GVA + ((long) rnd.nextInt(32) << 12) + 8L * rnd.nextInt(512), write, value);
                }
            }
            rig.assertConsistent(ctx + "checker");
        }
    }

    /** Creates slot 5 at {@code at}, zeroed, and writes PT2's entries into it (they map slot 0's DATA2 pages). */
    private void create(long at) {
        rig.vm.createSlot(new SlotSpec(SLOT, at, SLOT_PAGES, 0));
        base = at;
        slotBytes.clear();
        for (int j = 0; j < 8; j++) {
            long pte = ((DATA2 + j) << 12) | ShadowRig.RWU | Pte.A | Pte.D;
            rig.mem.write(((at + 0x10) << 12) + 8L * j, pte, 8);
            slotBytes.put((0x10L << 12) + 8L * j, pte);
        }
    }

    private static long dataGfn(int i) {
        return i < 16 ? BASE_A + i : BASE_B + i - 16;
    }

    private void access(String ctx, VcpuMmu cpu, long gva, boolean write, long value) {
        String what = ctx + "vCPU " + cpu.vcpu().id() + (write ? " writes" : " reads") + " gva 0x"
                + Long.toHexString(gva) + " (slot 5 at " + (base < 0 ? "nowhere" : "0x" + Long.toHexString(base)) + ")";
        AccessResult r = write ? cpu.write(gva, value, 8, false, rig.r) : cpu.read(gva, 8, false, rig.r);
        if (gva >= GVA2) {
            // PT2 is reached only while slot 5 is at BASE_A: elsewhere its gfn is a hole, read as all ones (RSVD)
            if (base != BASE_A) {
                assertFalse(r.ok(), what + ": the walk through PT2 outside every slot must fault");
                return;
            }
            assertTrue(r.ok(), what);
            long gpa = ((DATA2 + ((gva - GVA2) >>> 12)) << 12) | (gva & 4095);
            if (write) {
                data2.put(gpa, value);
            } else {
                assertEquals(data2.getOrDefault(gpa, 0L), r.value, what);
            }
            return;
        }
        assertTrue(r.ok(), what);
        long gfn = dataGfn((int) ((gva - GVA) >>> 12));
        boolean mapped = base >= 0 && gfn >= base && gfn < base + SLOT_PAGES;
        long off = ((gfn - base) << 12) | (gva & 4095);
        if (write) {
            if (mapped) {
                slotBytes.put(off, value);
            }
        } else {
            assertEquals(mapped ? slotBytes.getOrDefault(off, 0L) : -1L, r.value, what);
        }
    }
}
