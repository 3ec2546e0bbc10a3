package org.shadowbox.vm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host memory behind one memslot (what KVM reaches through
 * {@code slot->userspace_addr}): 4 KiB pages allocated on first write, so host memory
 * grows with what the guest touched, never with the size declared. A move keeps it.
 *
 * <p>Values are little-endian. Accesses within one page use byte-array views (any
 * alignment); the callers split accesses that cross a page.
 */
final class SlotMemory {
    static final int PAGE_SHIFT = 12;
    static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    private static final int CHUNK_SHIFT = 9; // 512 pages (2 MiB) per chunk

    static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final long npages;
    private final long hostFrameBase;
    private final ChunkDirectory chunks;
    private final AtomicLong resident = new AtomicLong();
    /** The VM's budget, charged a page's bytes before it is allocated; null for a probe that stores nothing. */
    private final Budget budget;

    SlotMemory(long npages, long hostFrameBase, Budget budget) {
        this.npages = npages;
        this.hostFrameBase = hostFrameBase;
        this.budget = budget;
        this.chunks = new ChunkDirectory((npages + (1 << CHUNK_SHIFT) - 1) >>> CHUNK_SHIFT);
    }

    long npages() {
        return npages;
    }

    long hostFrameBase() {
        return hostFrameBase;
    }

    long residentPages() {
        return resident.get();
    }

    /** The page at {@code index} (relative to the slot), or null if never written. */
    byte[] pageIfPresent(long index) {
        Object[] chunk = (Object[]) chunks.get(index >>> CHUNK_SHIFT);
        return chunk == null ? null : (byte[]) ARRAY.getAcquire(chunk, (int) (index & ((1 << CHUNK_SHIFT) - 1)));
    }

    private static final VarHandle ARRAY = MethodHandles.arrayElementVarHandle(Object[].class);

    /** The page at {@code index}, allocated zeroed if never written. */
    byte[] page(long index) {
        byte[] p = pageIfPresent(index);
        return p != null ? p : allocate(index);
    }

    private byte[] allocate(long index) {
        Object[] chunk = (Object[]) chunks.getOrCreate(index >>> CHUNK_SHIFT, () -> new Object[1 << CHUNK_SHIFT]);
        int i = (int) (index & ((1 << CHUNK_SHIFT) - 1));
        synchronized (chunk) {
            byte[] p = (byte[]) ARRAY.getAcquire(chunk, i);
            if (p == null) {
                if (budget != null) {
                    budget.charge(PAGE_SIZE, "making another 4 KiB guest page resident");
                }
                p = new byte[PAGE_SIZE];
                ARRAY.setRelease(chunk, i, p);
                resident.incrementAndGet();
            }
            return p;
        }
    }

    /** Gives the budget back what this memory holds: the slot was deleted (or its VM destroyed). */
    void release() {
        if (budget != null) {
            budget.release(resident.get() * PAGE_SIZE);
        }
    }

    /** Reads {@code size} (1, 2, 4, 8) bytes at {@code off} of a page; {@code off + size <= 4096}. */
    static long load(byte[] page, int off, int size) {
        if (page == null) {
            return 0;
        }
        switch (size) {
            case 1: return page[off] & 0xffL;
            case 2: return (short) SHORT.get(page, off) & 0xffffL;
            case 4: return (int) INT.get(page, off) & 0xffff_ffffL;
            default: return (long) LONG.get(page, off);
        }
    }

    /** Writes the low {@code size} bytes of {@code value} at {@code off}; {@code off + size <= 4096}. */
    static void store(byte[] page, int off, long value, int size) {
        switch (size) {
            case 1: page[off] = (byte) value; break;
            case 2: SHORT.set(page, off, (short) value); break;
            case 4: INT.set(page, off, (int) value); break;
            default: LONG.set(page, off, value); break;
        }
    }
}
