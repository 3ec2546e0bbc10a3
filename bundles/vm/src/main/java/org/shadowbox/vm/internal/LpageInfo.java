package org.shadowbox.vm.internal;

import org.shadowbox.vm.Memslot;

/**
 * {@code slot->arch.lpage_info}: per large-page level, a {@code disallow_lpage} count per
 * large frame the slot touches.
 *
 * <p>As {@code kvm_alloc_memslot_metadata} sets them up, a frame starts at 1 (always
 * disallowed) if the slot does not cover it whole (an unaligned head or tail) or if the
 * slot's gfns and host frames are not aligned alike at that level (then every frame).
 * Shadowbox stores that baseline arithmetically and only the changes in lazily allocated
 * chunks, so a huge slot costs nothing until page track or the MMU touch it.
 */
final class LpageInfo {
    private static final int CHUNK_SHIFT = 10;
    private static final int CHUNK = 1 << CHUNK_SHIFT;

    private final long baseGfn;
    private final long npages;
    private final long hostFrameBase;
    /** Index 0: 2M, 1: 1G. */
    private final ChunkDirectory[] deltas = new ChunkDirectory[2];

    LpageInfo(long baseGfn, long npages, long hostFrameBase) {
        this.baseGfn = baseGfn;
        this.npages = npages;
        this.hostFrameBase = hostFrameBase;
        for (int level = Memslot.LEVEL_2M; level <= Memslot.LEVEL_1G; level++) {
            deltas[level - 2] = new ChunkDirectory((frames(level) + CHUNK - 1) >>> CHUNK_SHIFT);
        }
    }

    /** KVM_HPAGE_GFN_SHIFT(level): 9 for 2M, 18 for 1G. */
    static int gfnShift(int level) {
        return (level - 1) * 9;
    }

    /** Number of large frames of {@code level} the slot touches (KVM's {@code gfn_to_index} + 1). */
    long frames(int level) {
        int s = gfnShift(level);
        return ((baseGfn + npages - 1) >>> s) - (baseGfn >>> s) + 1;
    }

    private long index(long gfn, int level) {
        int s = gfnShift(level);
        return (gfn >>> s) - (baseGfn >>> s);
    }

    /** The count KVM's metadata setup leaves in a frame before anyone disallows it. */
    private int baseline(long index, int level) {
        long pagesPerHpage = 1L << gfnShift(level);
        if (((baseGfn ^ hostFrameBase) & (pagesPerHpage - 1)) != 0) {
            return 1;
        }
        int count = 0;
        if (index == 0 && (baseGfn & (pagesPerHpage - 1)) != 0) {
            count = 1;
        }
        if (index == frames(level) - 1 && ((baseGfn + npages) & (pagesPerHpage - 1)) != 0) {
            count = 1; // KVM sets, not adds: a frame that is both head and tail counts 1
        }
        return count;
    }

    int count(long gfn, int level) {
        checkLevel(level);
        long idx = index(gfn, level);
        if (idx < 0 || idx >= frames(level)) {
            throw new IllegalArgumentException("gfn 0x" + Long.toHexString(gfn) + " is not in this slot");
        }
        int[] c = (int[]) deltas[level - 2].get(idx >>> CHUNK_SHIFT);
        return baseline(idx, level) + (c == null ? 0 : c[(int) (idx & (CHUNK - 1))]);
    }

    /** {@code update_gfn_disallow_lpage_count}: every large level. Caller holds the MMU lock. */
    void update(long gfn, int delta) {
        if (delta < 0) {
            // KVM: WARN_ON(linfo->disallow_lpage < 0). An unbalanced allow is a caller bug;
            // check every level first so that a refused update changes nothing.
            for (int level = Memslot.LEVEL_2M; level <= Memslot.LEVEL_1G; level++) {
                if (count(gfn, level) + delta < 0) {
                    throw new IllegalStateException("disallow_lpage of gfn 0x" + Long.toHexString(gfn)
                            + " at level " + level + " would go below 0");
                }
            }
        }
        for (int level = Memslot.LEVEL_2M; level <= Memslot.LEVEL_1G; level++) {
            long idx = index(gfn, level);
            int[] c = (int[]) deltas[level - 2].getOrCreate(idx >>> CHUNK_SHIFT, () -> new int[CHUNK]);
            c[(int) (idx & (CHUNK - 1))] += delta;
        }
    }

    private static void checkLevel(int level) {
        if (level != Memslot.LEVEL_2M && level != Memslot.LEVEL_1G) {
            throw new IllegalArgumentException("large-page level " + level + ": accepted 2 (2M) or 3 (1G)");
        }
    }
}
