package org.shadowbox.gpu.internal;

import org.shadowbox.vm.Memslot;

/**
 * The GPU's command streamer and copy engine, which reach memory only through the shadow page
 * tables: a batch is read, and every copy and fill is done, by GPU virtual address, each page
 * translated by walking the shadow (never the guest's tables). A page with no mapping reads as
 * zeros and drops writes (a GPU fault); so does the scratch page; a page mapped read-only drops
 * writes. The only memory a shadow leaf can name is a page of the VM's memslots that the driver
 * gave to the GPU, so no command can touch anything else. Bytes move through the host's view of
 * guest memory ({@code GuestMemory}, dirty-logged), as a device's DMA through an IOMMU mapping:
 * the tracker API gives no bundle the host pages themselves.
 *
 * <p>Commands are 32 bytes: opcode, then three operands (little-endian 64-bit words).
 * {@link #END} stops; {@link #FILL} {@code dst, len, pattern} stores the 8-byte pattern
 * repeated (byte {@code k} of the range is byte {@code k mod 8} of the pattern); {@link #COPY}
 * {@code src, dst, len} copies byte by byte, ascending. A batch holds at most
 * {@value #MAX_COMMANDS} commands; a length above {@value #MAX_LENGTH} or an unknown opcode is
 * refused and ends the batch.
 */
final class GpuEngine {
    static final long END = 0, FILL = 1, COPY = 2;
    static final int COMMAND_BYTES = 32;
    static final int MAX_COMMANDS = 4096 / COMMAND_BYTES;
    static final long MAX_LENGTH = 1 << 20;

    /** Translation results. */
    static final int FAULT = 0, SCRATCH = 1, PAGE = 2;

    private final ShadowPpgtt ppgtt;
    private final GpuStats stats;
    // The last translation (one command at a time, under the vGPU's lock).
    private boolean writable;
    private long gfn;

    GpuEngine(ShadowPpgtt ppgtt, GpuStats stats) {
        this.ppgtt = ppgtt;
        this.stats = stats;
    }

    /** Walks the shadow of context {@code ctx} for {@code gva}: FAULT, SCRATCH or PAGE (then writable/gfn are set). */
    int translate(int ctx, long gva) {
        writable = false;
        if (gva < 0 || gva >= GpuPte.VA_LIMIT) {
            return FAULT;
        }
        byte rk = ppgtt.rootKind[ctx];
        if (rk == ShadowTable.SCRATCH) {
            return SCRATCH;
        }
        ShadowTable t = ppgtt.root[ctx];
        boolean w = true;
        while (t != null) {
            int i = GpuPte.index(gva, t.level);
            byte k = t.kind[i];
            if (k == ShadowTable.NONE) {
                return FAULT;
            }
            if (k == ShadowTable.SCRATCH) {
                return SCRATCH;
            }
            w &= t.writable(i);
            if (t.level == 1) {
                gfn = GpuPte.gfn(t.guest[i]);
                Memslot slot = ppgtt.vm.slotForGfn(gfn);
                writable = w && slot != null && !slot.readonly();
                return PAGE;
            }
            t = t.child[i];
        }
        return FAULT;
    }

    /** Runs the batch at {@code batchGva} on context {@code ctx}; returns the commands run. */
    int execute(int ctx, long batchGva) {
        stats.submits++;
        int n = 0;
        for (; n < MAX_COMMANDS; n++) {
            long at = batchGva + (long) n * COMMAND_BYTES;
            long op = read64(ctx, at);
            if (op == END) {
                break;
            }
            long a = read64(ctx, at + 8);
            long b = read64(ctx, at + 16);
            long c = read64(ctx, at + 24);
            long len = op == FILL ? b : c;
            if ((op != FILL && op != COPY) || len < 0 || len > MAX_LENGTH) {
                stats.badCommands++;
                break;
            }
            stats.commands++;
            if (op == FILL) {
                for (long k = 0; k < len; k++) {
                    writeByte(ctx, a + k, (byte) (c >>> (8 * (int) (k & 7))));
                }
            } else {
                for (long k = 0; k < len; k++) {
                    writeByte(ctx, b + k, readByte(ctx, a + k));
                }
            }
        }
        return n;
    }

    private long read64(int ctx, long gva) {
        long v = 0;
        for (int k = 0; k < 8; k++) {
            v |= (readByte(ctx, gva + k) & 0xffL) << (8 * k);
        }
        return v;
    }

    /** One byte read through the shadow: 0 from scratch or no mapping. */
    private byte readByte(int ctx, long gva) {
        int r = translate(ctx, gva);
        if (r == PAGE) {
            stats.bytesRead++;
            return (byte) ppgtt.vm.memory().read((gfn << 12) | (gva & 4095), 1);
        }
        count(r);
        return 0;
    }

    /** One byte written through the shadow: dropped on scratch, no mapping or a read-only one. */
    private void writeByte(int ctx, long gva, byte b) {
        int r = translate(ctx, gva);
        if (r == PAGE && writable) {
            ppgtt.vm.memory().write((gfn << 12) | (gva & 4095), b, 1); // dirty-logged like any host write
            stats.bytesWritten++;
            return;
        }
        count(r == PAGE ? FAULT : r);
    }

    private void count(int r) {
        if (r == SCRATCH) {
            stats.scratchBytes++;
        } else {
            stats.faultBytes++;
        }
    }
}
