package org.shadowbox.vm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * {@code slot->dirty_bitmap}: one bit per page, set by {@code mark_page_dirty} on every
 * write, read and cleared by {@code KVM_GET_DIRTY_LOG}. Chunks of {@value #CHUNK_PAGES}
 * pages are allocated on the first write in them. Marking is lock-free (an atomic OR);
 * harvesting swaps each word to zero, so no mark is lost between the read and the clear.
 */
final class DirtyLog {
    private static final int CHUNK_PAGES = 1 << 12;
    private static final int WORDS = CHUNK_PAGES / 64;
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final long baseGfn;
    private final long npages;
    private final ChunkDirectory chunks;

    DirtyLog(long baseGfn, long npages) {
        this.baseGfn = baseGfn;
        this.npages = npages;
        this.chunks = new ChunkDirectory((npages + CHUNK_PAGES - 1) / CHUNK_PAGES);
    }

    /** {@code mark_page_dirty_in_slot} for the page at {@code index} of the slot. */
    void mark(long index) {
        long[] c = (long[]) chunks.getOrCreate(index / CHUNK_PAGES, () -> new long[WORDS]);
        int bit = (int) (index % CHUNK_PAGES);
        long mask = 1L << (bit & 63);
        if (((long) WORD.getOpaque(c, bit >>> 6) & mask) == 0) {
            WORD.getAndBitwiseOr(c, bit >>> 6, mask);
        }
    }

    /** The dirty gfns, sorted, each cleared as it is read. */
    long[] harvest() {
        long[] out = new long[16];
        int n = 0;
        long nchunks = (npages + CHUNK_PAGES - 1) / CHUNK_PAGES;
        for (long ci = 0; ci < nchunks; ci++) {
            long[] c = (long[]) chunks.get(ci);
            if (c == null) {
                continue;
            }
            for (int w = 0; w < WORDS; w++) {
                long bits = (long) WORD.getAndSet(c, w, 0L);
                while (bits != 0) {
                    int b = Long.numberOfTrailingZeros(bits);
                    bits &= bits - 1;
                    if (n == out.length) {
                        out = Arrays.copyOf(out, n * 2);
                    }
                    out[n++] = baseGfn + ci * CHUNK_PAGES + w * 64L + b;
                }
            }
        }
        return Arrays.copyOf(out, n);
    }
}
