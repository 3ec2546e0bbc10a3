package org.shadowbox.vm.internal;

import org.shadowbox.vm.spi.GfnTrack;

/**
 * {@code slot->arch.gfn_track[mode]}: one unsigned 16-bit counter per page, stored in
 * chunks of {@value #CHUNK} pages that exist only once something in them was tracked.
 * Java's {@code char} is exactly KVM's {@code unsigned short}.
 */
final class GfnTrackImpl implements GfnTrack {
    static final int CHUNK_SHIFT = 12;
    static final int CHUNK = 1 << CHUNK_SHIFT;

    private static final long CHUNK_BYTES = 16 + 2L * CHUNK;

    private final long baseGfn;
    private final long npages;
    private final ChunkDirectory chunks;
    private final Budget budget;
    /**
     * Allocates a chunk and counts it against the VM's budget. Counted, never refused: a chunk
     * is made under {@code account_shadowed}, which must not fail half done; the guest
     * memory a tracked page table needs is what the budget refuses.
     */
    private final ChunkDirectory.ChunkFactory factory;
    /** For {@link #reserve}: a chunk charged with the budget's check, refused in one line if it does not fit. */
    private final ChunkDirectory.ChunkFactory checked;

    GfnTrackImpl(long baseGfn, long npages, Budget budget) {
        this.baseGfn = baseGfn;
        this.npages = npages;
        this.chunks = new ChunkDirectory((npages + CHUNK - 1) >>> CHUNK_SHIFT);
        this.budget = budget;
        this.factory = () -> {
            if (budget != null) {
                budget.chargeUnchecked(CHUNK_BYTES);
            }
            return new char[CHUNK];
        };
        this.checked = () -> {
            if (budget != null) {
                budget.charge(CHUNK_BYTES, "allocating a page-track counter chunk (" + CHUNK + " pages' counts, "
                        + (CHUNK_BYTES >> 10) + " KiB)");
            }
            return new char[CHUNK];
        };
    }

    @Override
    public void reserve(long gfn) {
        long idx = gfn - baseGfn;
        if (idx >= 0 && idx < npages) {
            chunks.getOrCreate(idx >>> CHUNK_SHIFT, checked);
        }
    }

    /** Gives the budget back the chunks: the slot was deleted or moved (a move starts with zeroed counters). */
    void release() {
        if (budget != null) {
            budget.release(chunks.allocatedChunks() * CHUNK_BYTES);
        }
    }

    @Override
    public int count(long gfn) {
        long idx = gfn - baseGfn;
        if (idx < 0 || idx >= npages) {
            return 0;
        }
        char[] c = (char[]) chunks.get(idx >>> CHUNK_SHIFT);
        return c == null ? 0 : c[(int) (idx & (CHUNK - 1))];
    }

    @Override
    public int add(long gfn, int delta) {
        long idx = gfn - baseGfn;
        if (idx < 0 || idx >= npages) {
            throw new IllegalArgumentException("gfn 0x" + Long.toHexString(gfn) + " is not in this slot");
        }
        char[] c = (char[]) chunks.getOrCreate(idx >>> CHUNK_SHIFT, factory);
        int i = (int) (idx & (CHUNK - 1));
        int v = c[i] + delta;
        if (v < 0 || v > 0xffff) {
            throw new IllegalStateException("gfn_track count of 0x" + Long.toHexString(gfn)
                    + " would become " + v + "; page track must refuse before adding");
        }
        c[i] = (char) v;
        return v;
    }

    @Override
    public long allocatedBytes() {
        return chunks.overheadBytes() + (long) chunks.allocatedChunks() * CHUNK_BYTES;
    }
}
