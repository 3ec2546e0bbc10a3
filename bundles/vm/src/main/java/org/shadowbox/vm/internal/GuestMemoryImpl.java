package org.shadowbox.vm.internal;

import static org.shadowbox.vm.internal.SlotMemory.PAGE_SHIFT;
import static org.shadowbox.vm.internal.SlotMemory.PAGE_SIZE;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.VmException;

/**
 * Guest physical memory routed through the VM's current memslots ({@code kvm_read_guest},
 * {@code kvm_write_guest}). An access within one page costs one slot lookup and one
 * array access; an access that crosses a page goes byte by byte, each byte to its own gfn.
 */
final class GuestMemoryImpl implements GuestMemory {
    private final VmImpl vm;
    final LongAdder mmioReads = new LongAdder();
    final LongAdder mmioWritesDropped = new LongAdder();
    final LongAdder hostWrites = new LongAdder();

    GuestMemoryImpl(VmImpl vm) {
        this.vm = vm;
    }

    static void checkSize(int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new VmException("bad access size " + size + ": accepted 1, 2, 4 or 8 bytes");
        }
    }

    /** All ones in the low {@code size} bytes: what a read of an MMIO hole returns. */
    static long ones(int size) {
        return size == 8 ? -1L : (1L << (size * 8)) - 1;
    }

    @Override
    public long read(long gpa, int size) {
        checkSize(size);
        return load(gpa, size);
    }

    long load(long gpa, int size) {
        int off = (int) (gpa & (PAGE_SIZE - 1));
        if (off + size <= PAGE_SIZE) {
            MemslotImpl s = vm.memslotsSnapshot().find(gpa >>> PAGE_SHIFT);
            if (s == null) {
                mmioReads.increment();
                return ones(size);
            }
            return SlotMemory.load(s.memory.pageIfPresent((gpa >>> PAGE_SHIFT) - s.baseGfn()), off, size);
        }
        long v = 0;
        boolean hole = false;
        for (int i = 0; i < size; i++) {
            int b = loadByte(gpa + i);
            hole |= b < 0;
            v |= (long) (b & 0xff) << (8 * i);
        }
        if (hole) {
            mmioReads.increment();
        }
        return v;
    }

    /** The byte at {@code gpa} (0 to 255), or -1 (all ones) for a hole. */
    private int loadByte(long gpa) {
        MemslotImpl s = vm.memslotsSnapshot().find(gpa >>> PAGE_SHIFT);
        if (s == null) {
            return -1;
        }
        byte[] p = s.memory.pageIfPresent((gpa >>> PAGE_SHIFT) - s.baseGfn());
        return p == null ? 0 : p[(int) (gpa & (PAGE_SIZE - 1))] & 0xff;
    }

    @Override
    public void write(long gpa, long value, int size) {
        checkSize(size);
        hostWrites.increment();
        if (!store(gpa, value, size, false)) {
            mmioWritesDropped.increment();
        }
    }

    /**
     * Stores the low {@code size} (1 to 8) bytes of {@code value}. A vCPU's store to a
     * read-only slot is dropped; the host's is not (userspace owns that memory).
     *
     * @return false if any byte was dropped
     */
    boolean store(long gpa, long value, int size, boolean fromVcpu) {
        int off = (int) (gpa & (PAGE_SIZE - 1));
        if (off + size <= PAGE_SIZE && Integer.bitCount(size) == 1) {
            MemslotImpl s = vm.memslotsSnapshot().find(gpa >>> PAGE_SHIFT);
            if (s == null || (fromVcpu && s.readonly())) {
                return false;
            }
            SlotMemory.store(s.pageForWrite((gpa >>> PAGE_SHIFT) - s.baseGfn()), off, value, size);
            return true;
        }
        // Both pages first: a budget refusal then leaves no half-written value behind.
        reserve(gpa, size, fromVcpu);
        boolean all = true;
        for (int i = 0; i < size; i++) {
            all &= storeByte(gpa + i, (byte) (value >>> (8 * i)), fromVcpu);
        }
        return all;
    }

    /**
     * Makes every page of {@code [gpa, gpa + len)} that a store would reach resident, so that
     * the memory budget refuses a store that spans pages before any byte of it is written.
     */
    void reserve(long gpa, long len, boolean fromVcpu) {
        for (long gfn = gpa >>> PAGE_SHIFT; gfn <= (gpa + len - 1) >>> PAGE_SHIFT; gfn++) {
            MemslotImpl s = vm.memslotsSnapshot().find(gfn);
            if (s != null && !(fromVcpu && s.readonly())) {
                s.memory.page(gfn - s.baseGfn());
            }
        }
    }

    private boolean storeByte(long gpa, byte b, boolean fromVcpu) {
        MemslotImpl s = vm.memslotsSnapshot().find(gpa >>> PAGE_SHIFT);
        if (s == null || (fromVcpu && s.readonly())) {
            return false;
        }
        s.pageForWrite((gpa >>> PAGE_SHIFT) - s.baseGfn())[(int) (gpa & (PAGE_SIZE - 1))] = b;
        return true;
    }

    @Override
    public void read(long gpa, byte[] dst, int off, int len) {
        Objects.checkFromIndexSize(off, len, dst.length);
        while (len > 0) {
            int pageOff = (int) (gpa & (PAGE_SIZE - 1));
            int n = Math.min(len, PAGE_SIZE - pageOff);
            MemslotImpl s = vm.memslotsSnapshot().find(gpa >>> PAGE_SHIFT);
            if (s == null) {
                mmioReads.increment();
                java.util.Arrays.fill(dst, off, off + n, (byte) 0xff);
            } else {
                byte[] p = s.memory.pageIfPresent((gpa >>> PAGE_SHIFT) - s.baseGfn());
                if (p == null) {
                    java.util.Arrays.fill(dst, off, off + n, (byte) 0);
                } else {
                    System.arraycopy(p, pageOff, dst, off, n);
                }
            }
            gpa += n;
            off += n;
            len -= n;
        }
    }

    @Override
    public void write(long gpa, byte[] src, int off, int len) {
        Objects.checkFromIndexSize(off, len, src.length);
        hostWrites.increment();
        if (len > 0) {
            reserve(gpa, len, false);
        }
        boolean dropped = false;
        while (len > 0) {
            int pageOff = (int) (gpa & (PAGE_SIZE - 1));
            int n = Math.min(len, PAGE_SIZE - pageOff);
            MemslotImpl s = vm.memslotsSnapshot().find(gpa >>> PAGE_SHIFT);
            if (s == null) {
                dropped = true;
            } else {
                System.arraycopy(src, off, s.pageForWrite((gpa >>> PAGE_SHIFT) - s.baseGfn()), pageOff, n);
            }
            gpa += n;
            off += n;
            len -= n;
        }
        if (dropped) {
            mmioWritesDropped.increment();
        }
    }

    @Override
    public long residentPages() {
        return vm.memslotsSnapshot().residentPages();
    }

    @Override
    public long mmioReads() {
        return mmioReads.sum();
    }

    @Override
    public long mmioWritesDropped() {
        return mmioWritesDropped.sum();
    }
}
