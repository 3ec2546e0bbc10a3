package org.shadowbox.gpu.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.VmException;

/**
 * Seeded random guest behaviour (entry writes of every size and shape, grants, revocations,
 * roots, host-side writes, a memslot deleted and created again) checked against
 * {@link ShadowModel} after every step: the shadowed tables, their views, kinds and failures,
 * the roots, the counters, page track's tracks, and translations.
 */
class ShadowPpgttRandomTest {
    private static final int STEPS = 1500;
    private static final int[] INDEXES = {0, 1, 2, 511};

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void shadowFollowsTheModel(long seed) {
        GpuRig rig = new GpuRig();
        try {
            run(rig, seed);
        } finally {
            rig.close();
        }
    }

    private static void run(GpuRig rig, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        ShadowModel model = new ShadowModel(rig.vm);
        VGpu gpu = rig.gpu;
        long[] pool = new long[40];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = i < 28 ? 0x400 + i : GpuRig.SLOT2_BASE + (i - 28);
        }
        boolean slot2 = true;
        for (int step = 0; step < STEPS; step++) {
            String what;
            int op = rnd.nextInt(100);
            long g = pool[rnd.nextInt(pool.length)];
            if (op < 50) {
                int i = INDEXES[rnd.nextInt(INDEXES.length)];
                long v = value(rnd, pool);
                long gpa = (g << 12) + 8L * i;
                int shape = rnd.nextInt(10);
                what = "write 0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(v) + " shape " + shape;
                if (shape < 5) {
                    write(rig, model, gpa, v, 8);
                } else if (shape < 7) {
                    write(rig, model, gpa, v & 0xffff_ffffL, 4);
                    write(rig, model, gpa + 4, v >>> 32, 4);
                } else if (shape < 9) {
                    for (int k = 0; k < 4; k++) {
                        write(rig, model, gpa + 2L * k, (v >>> (16 * k)) & 0xffff, 2);
                    }
                } else {
                    write(rig, model, gpa + 4, v, 8); // straddles two entries
                }
            } else if (op < 62) {
                int use = rnd.nextInt(5); // 0 data, 1-4 a table level
                what = "grant 0x" + Long.toHexString(g) + " as " + use;
                try {
                    gpu.grantData(0); // no-op check that the call path works on gfn 0 too
                    gpu.revoke(0);
                    model.grants.put(0L, 0);
                    model.revoke(0);
                    if (use == 0) {
                        gpu.grantData(g);
                    } else {
                        gpu.grantTable(g, use);
                    }
                    model.grants.put(g, use);
                } catch (VmException e) {
                    // already given for another use: refused, nothing changed
                }
            } else if (op < 70) {
                what = "revoke 0x" + Long.toHexString(g);
                gpu.revoke(g);
                model.revoke(g);
            } else if (op < 82) {
                int ctx = rnd.nextInt(2);
                long r = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(6) == 0 ? 0xa0 : g;
                what = "root " + ctx + " = 0x" + Long.toHexString(r);
                gpu.setRoot(ctx, r);
                model.setRoot(ctx, r);
            } else if (op < 90) {
                long gpa = (g << 12) + 8L * INDEXES[rnd.nextInt(INDEXES.length)];
                long v = value(rnd, pool);
                what = "host write 0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(v);
                rig.vm.memory().write(gpa, v, 8); // notifies nobody: the shadow stays stale
            } else if (op < 93) {
                if (slot2) {
                    what = "delete slot 2";
                    rig.vm.deleteSlot(2);
                    model.removeRegion(GpuRig.SLOT2_BASE, GpuRig.SLOT2_PAGES);
                } else {
                    what = "create slot 2";
                    rig.vm.createSlot(new SlotSpec(2, GpuRig.SLOT2_BASE, GpuRig.SLOT2_PAGES, 0));
                }
                slot2 = !slot2;
            } else {
                what = "probe";
            }
            check(rig, model, rnd, "seed " + seed + " step " + step + " (" + what + ")");
        }
    }

    private static void write(GpuRig rig, ShadowModel model, long gpa, long v, int bytes) {
        if (!model.inSlot(gpa >>> 12)) {
            return; // an MMIO write: dropped, nobody notified
        }
        rig.write(gpa, v, bytes);
        model.write(gpa, bytes);
    }

    /** Mostly entries for pages of the pool, some outside every slot, some invalid, some zero. */
    private static long value(SplittableRandom rnd, long[] pool) {
        int k = rnd.nextInt(20);
        if (k == 0) {
            return 0;
        }
        if (k == 1) {
            return GpuPte.make(0xa0, true);
        }
        if (k == 2) {
            return GpuPte.make(pool[rnd.nextInt(pool.length)], true) | 1L << (2 + rnd.nextInt(9));
        }
        return GpuPte.make(pool[rnd.nextInt(pool.length)], rnd.nextInt(4) != 0);
    }

    private static void check(GpuRig rig, ShadowModel model, SplittableRandom rnd, String at) {
        ShadowPpgtt sp = rig.gpu.ppgtt();
        List<ShadowTable> tables = sp.tables();
        assertArrayEquals(model.tables.keySet().stream().mapToLong(Long::longValue).toArray(),
                tables.stream().mapToLong(t -> t.gfn).toArray(), at + ": shadowed tables");
        for (ShadowTable t : tables) {
            ShadowModel.Table m = model.tables.get(t.gfn);
            String where = at + ": table 0x" + Long.toHexString(t.gfn);
            assertEquals(m.level, t.level, where);
            assertArrayEquals(m.view, t.guest, where + " view");
            assertArrayEquals(m.kind, t.kind, where + " kinds");
            assertEquals(m.failures, t.failures, where + " failures");
            for (int i = 0; i < 512; i++) {
                if (t.level == 1 && t.kind[i] == ShadowTable.PAGE) {
                    long g = GpuPte.gfn(t.guest[i]);
                    assertEquals(rig.vm.slotForGfn(g).hostFrame(g), t.pfn[i], where + " pfn of entry " + i);
                }
            }
        }
        assertArrayEquals(model.rootKind, sp.rootKind, at + ": root kinds");
        GpuStats.Snapshot s = rig.gpu.stats();
        assertEquals(List.of(model.writes, model.handled, model.rejections, model.invalid, model.violations, model.rebuilds),
                List.of(s.writes(), s.writesHandled(), s.rejections(), s.invalidEntries(), s.violations(), s.rebuilds()),
                at + ": writes, handled, rejections, invalid, violations, rebuilds");
        long[] trackedByGpu = rig.track.tracked(rig.vm).stream().filter(p -> p.owners().containsKey(GpuRig.BSN))
                .peek(p -> assertEquals(1, p.owners().get(GpuRig.BSN), at + ": one track per table"))
                .mapToLong(TrackedPage::gfn).toArray();
        assertArrayEquals(model.tables.keySet().stream().mapToLong(Long::longValue).filter(model::inSlot).toArray(),
                trackedByGpu, at + ": page track holds exactly the shadowed tables");
        for (int k = 0; k < 16; k++) {
            int ctx = rnd.nextInt(2);
            long gva = 0;
            for (int level = 4; level >= 1; level--) {
                gva |= (long) INDEXES[rnd.nextInt(INDEXES.length)] << (12 + 9 * (level - 1));
            }
            assertEquals(Arrays.toString(model.translate(ctx, gva)), Arrays.toString(rig.gpu.translate(ctx, gva)),
                    at + ": translation of ctx " + ctx + " gva 0x" + Long.toHexString(gva));
        }
    }
}
