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

    private final long baseGfn;
    private final long npages;
    private final ChunkDirectory chunks;

    GfnTrackImpl(long baseGfn, long npages) {
        this.baseGfn = baseGfn;
        this.npages = npages;
        this.chunks = new ChunkDirectory((npages + CHUNK - 1) >>> CHUNK_SHIFT);
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
        char[] c = (char[]) chunks.getOrCreate(idx >>> CHUNK_SHIFT, () -> new char[CHUNK]);
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
        return chunks.overheadBytes() + (long) chunks.allocatedChunks() * (16 + 2L * CHUNK);
    }
}
