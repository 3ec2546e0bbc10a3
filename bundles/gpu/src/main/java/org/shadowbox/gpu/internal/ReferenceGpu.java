package org.shadowbox.gpu.internal;

import java.util.HashMap;
import java.util.Map;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * The gpu-driver scenario's differential model: a GPU that walks the guest's own GPU page tables
 * in guest memory (no shadow), with the rules the hardware interface states (an entry with
 * reserved bits is not present, one pointing outside the memslots or at a page not given to
 * the GPU for that use reads zeros and drops writes, writable is the AND of every level's RW),
 * executing a batch on a copy of the data pages taken before the real GPU runs it. After the
 * real GPU ran, guest memory must hold exactly what this copy holds.
 */
final class ReferenceGpu {
    private final Vm vm;
    /** The driver's own record of what it gave to the GPU (gfn -> 0 data, 1-4 table level). */
    private final Map<Long, Integer> given;
    /** The data pages as the reference GPU leaves them. */
    final Map<Long, byte[]> pages = new HashMap<>();
    private long lastGfn;
    private boolean lastWritable;

    ReferenceGpu(Vm vm, Map<Long, Integer> given) {
        this.vm = vm;
        this.given = given;
    }

    /** Copies every data page given to the GPU from guest memory. */
    void snapshot() {
        pages.clear();
        for (Map.Entry<Long, Integer> e : given.entrySet()) {
            if (e.getValue() == Grants.DATA && vm.slotForGfn(e.getKey()) != null) {
                byte[] copy = new byte[4096];
                vm.memory().read(e.getKey() << 12, copy, 0, 4096);
                pages.put(e.getKey(), copy);
            }
        }
    }

    /** Walks the guest tables from {@code rootGfn}: the data gfn, or -1 (no mapping or not allowed). */
    long walk(long rootGfn, long gva) {
        lastWritable = true;
        if (rootGfn == 0 || !allowed(rootGfn, 4) || gva < 0 || gva >= GpuPte.VA_LIMIT) {
            return -1;
        }
        long table = rootGfn;
        for (int level = 4; level >= 1; level--) {
            long e = vm.memory().read((table << 12) + 8L * GpuPte.index(gva, level), 8);
            if ((e & GpuPte.P) == 0 || (e & GpuPte.RESERVED) != 0) {
                return -1;
            }
            long next = GpuPte.gfn(e);
            if (!allowed(next, level - 1)) {
                return -1;
            }
            lastWritable &= (e & GpuPte.RW) != 0;
            table = next;
        }
        Memslot slot = vm.slotForGfn(table);
        lastWritable &= !slot.readonly();
        lastGfn = table;
        return table;
    }

    private boolean allowed(long gfn, int use) {
        Integer u = given.get(gfn);
        return u != null && u == use && vm.slotForGfn(gfn) != null;
    }

    /** Runs the batch at {@code batchGva} as {@link GpuEngine} specifies, on {@link #pages}. */
    void execute(long rootGfn, long batchGva) {
        for (int n = 0; n < GpuEngine.MAX_COMMANDS; n++) {
            long at = batchGva + (long) n * GpuEngine.COMMAND_BYTES;
            long op = read64(rootGfn, at);
            if (op == GpuEngine.END) {
                return;
            }
            long a = read64(rootGfn, at + 8);
            long b = read64(rootGfn, at + 16);
            long c = read64(rootGfn, at + 24);
            long len = op == GpuEngine.FILL ? b : c;
            if ((op != GpuEngine.FILL && op != GpuEngine.COPY) || len < 0 || len > GpuEngine.MAX_LENGTH) {
                return;
            }
            for (long k = 0; k < len; k++) {
                if (op == GpuEngine.FILL) {
                    store(rootGfn, a + k, (byte) (c >>> (8 * (int) (k & 7))));
                } else {
                    store(rootGfn, b + k, load(rootGfn, a + k));
                }
            }
        }
    }

    private long read64(long root, long gva) {
        long v = 0;
        for (int k = 0; k < 8; k++) {
            v |= (load(root, gva + k) & 0xffL) << (8 * k);
        }
        return v;
    }

    private byte load(long root, long gva) {
        long g = walk(root, gva);
        return g < 0 ? 0 : pages.get(g)[(int) (gva & 4095)];
    }

    private void store(long root, long gva, byte v) {
        long g = walk(root, gva);
        if (g >= 0 && lastWritable) {
            pages.get(lastGfn)[(int) (gva & 4095)] = v;
        }
    }
}
