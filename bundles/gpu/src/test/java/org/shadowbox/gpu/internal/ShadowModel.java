package org.shadowbox.gpu.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * A plain model of what the shadow must hold, written from the rules rather than the code: the
 * tables reachable from the roots through entries valid when they were last validated, each with
 * its entries as last read from guest memory; no reference counts, reachability recomputed
 * after every operation by a walk. Counters follow the same rules.
 */
final class ShadowModel {
    static final byte NONE = ShadowTable.NONE, TABLE = ShadowTable.TABLE, PAGE = ShadowTable.PAGE,
            SCRATCH = ShadowTable.SCRATCH;

    static final class Table {
        final int level;
        final long[] view = new long[512];
        final byte[] kind = new byte[512];
        int failures;

        Table(int level) {
            this.level = level;
        }
    }

    final Vm vm;
    final Map<Long, Integer> grants = new HashMap<>();
    final TreeMap<Long, Table> tables = new TreeMap<>();
    final long[] rootGfn = new long[ShadowPpgtt.CONTEXTS];
    final byte[] rootKind = new byte[ShadowPpgtt.CONTEXTS];
    long writes, handled, rejections, invalid, violations, rebuilds;

    ShadowModel(Vm vm) {
        this.vm = vm;
    }

    private byte validate(int level, long v) {
        if ((v & GpuPte.P) == 0) {
            return NONE;
        }
        if ((v & GpuPte.RESERVED) != 0) {
            invalid++;
            return NONE;
        }
        long g = GpuPte.gfn(v);
        Integer use = grants.get(g);
        int want = level > 1 ? level - 1 : Grants.DATA;
        if (vm.slotForGfn(g) == null || use == null || use != want) {
            violations++;
            return SCRATCH;
        }
        return level > 1 ? TABLE : PAGE;
    }

    void setRoot(int ctx, long gfn) {
        rootGfn[ctx] = gfn;
        if (gfn == 0) {
            rootKind[ctx] = NONE;
        } else if (vm.slotForGfn(gfn) != null && Integer.valueOf(4).equals(grants.get(gfn))) {
            rootKind[ctx] = TABLE;
        } else {
            violations++;
            rootKind[ctx] = SCRATCH;
        }
        sync();
    }

    /** Shadows newly reachable tables (reading guest memory) and drops unreachable ones. */
    void sync() {
        Map<Long, Table> reached = new HashMap<>();
        ArrayDeque<long[]> work = new ArrayDeque<>();
        for (int c = 0; c < rootGfn.length; c++) {
            if (rootKind[c] == TABLE) {
                work.add(new long[] {rootGfn[c], 4});
            }
        }
        while (!work.isEmpty()) {
            long[] w = work.poll();
            long g = w[0];
            if (reached.containsKey(g)) {
                continue;
            }
            Table t = tables.get(g);
            if (t == null) {
                t = new Table((int) w[1]);
                for (int i = 0; i < 512; i++) {
                    t.view[i] = vm.memory().read((g << 12) + 8L * i, 8);
                    t.kind[i] = validate(t.level, t.view[i]);
                }
            }
            reached.put(g, t);
            for (int i = 0; i < 512; i++) {
                if (t.kind[i] == TABLE) {
                    work.add(new long[] {GpuPte.gfn(t.view[i]), t.level - 1});
                }
            }
        }
        tables.clear();
        tables.putAll(reached);
    }

    void write(long gpa, int bytes) {
        Table t = tables.get(gpa >>> 12);
        if (t == null) {
            return;
        }
        writes++;
        if (bytes != 4 && bytes != 8) {
            rejections++;
            t.failures++;
        } else {
            handled++;
            int off = (int) (gpa & 4095);
            for (int i = off >>> 3; i <= Math.min(off + bytes - 1, 4095) >>> 3; i++) {
                t.view[i] = vm.memory().read(((gpa >>> 12) << 12) + 8L * i, 8);
                long before = invalid;
                t.kind[i] = validate(t.level, t.view[i]);
                t.failures += (int) (invalid - before);
            }
        }
        sync();
        if (t.failures > 3 && tables.get(gpa >>> 12) == t) {
            rebuilds++;
            for (int i = 0; i < 512; i++) {
                t.view[i] = vm.memory().read(((gpa >>> 12) << 12) + 8L * i, 8);
                t.kind[i] = validate(t.level, t.view[i]);
            }
            t.failures = 0;
            sync();
        }
    }

    void revoke(long gfn) {
        if (grants.remove(gfn) != null) {
            revalidate(gfn, 1);
        }
    }

    void removeRegion(long gfn, long npages) {
        grants.keySet().removeIf(g -> g >= gfn && g - gfn < npages);
        revalidate(gfn, npages);
    }

    private void revalidate(long gfn, long npages) {
        for (int c = 0; c < rootGfn.length; c++) {
            if (rootGfn[c] != 0 && rootGfn[c] >= gfn && rootGfn[c] - gfn < npages) {
                rootKind[c] = SCRATCH;
                violations++;
            }
        }
        for (Table t : tables.values()) {
            for (int i = 0; i < 512; i++) {
                long v = t.view[i];
                long g = GpuPte.gfn(v);
                if (GpuPte.present(v) && GpuPte.valid(v) && g >= gfn && g - gfn < npages) {
                    t.kind[i] = validate(t.level, v);
                }
            }
        }
        sync();
    }

    /** What the GPU must see at {@code gva}: FAULT, SCRATCH or PAGE, and the gfn for PAGE. */
    long[] translate(int ctx, long gva) {
        if (rootKind[ctx] == SCRATCH) {
            return new long[] {GpuEngine.SCRATCH, -1};
        }
        if (rootKind[ctx] == NONE) {
            return new long[] {GpuEngine.FAULT, -1};
        }
        long g = rootGfn[ctx];
        for (int level = 4; level >= 1; level--) {
            Table t = tables.get(g);
            int i = GpuPte.index(gva, level);
            byte k = t.kind[i];
            if (k == NONE) {
                return new long[] {GpuEngine.FAULT, -1};
            }
            if (k == SCRATCH) {
                return new long[] {GpuEngine.SCRATCH, -1};
            }
            g = GpuPte.gfn(t.view[i]);
        }
        return new long[] {GpuEngine.PAGE, g};
    }

    boolean inSlot(long gfn) {
        Memslot s = vm.slotForGfn(gfn);
        return s != null;
    }
}
