package org.shadowbox.vm.internal;

import org.shadowbox.vm.spi.PlatformMemslot;
import org.shadowbox.vm.spi.GfnTrack;
import org.shadowbox.vm.Memslot;

/**
 * A memslot ({@code struct kvm_memory_slot}) with its arch data. Geometry is final; a
 * move builds a new MemslotImpl over the same {@link SlotMemory} with fresh arch data.
 */
final class MemslotImpl implements PlatformMemslot {
    private final int id;
    private final long baseGfn;
    private final long npages;
    private final int flags;
    final SlotMemory memory;
    private final LpageInfo lpage;
    private final GfnTrackImpl[] gfnTrack = new GfnTrackImpl[GfnTrack.MAX_MODES];
    /** Non-null iff the slot logs dirty pages. */
    final DirtyLog dirtyLog;

    MemslotImpl(int id, long baseGfn, long npages, int flags, SlotMemory memory, Budget budget) {
        this.id = id;
        this.baseGfn = baseGfn;
        this.npages = npages;
        this.flags = flags;
        this.memory = memory;
        this.lpage = new LpageInfo(baseGfn, npages, memory.hostFrameBase());
        this.dirtyLog = (flags & LOG_DIRTY_PAGES) != 0 ? new DirtyLog(baseGfn, npages) : null;
        for (int m = 0; m < gfnTrack.length; m++) {
            gfnTrack[m] = new GfnTrackImpl(baseGfn, npages, budget);
        }
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public long baseGfn() {
        return baseGfn;
    }

    @Override
    public long npages() {
        return npages;
    }

    @Override
    public int flags() {
        return flags;
    }

    @Override
    public long hostFrame(long gfn) {
        return memory.hostFrameBase() + checkedIndex(gfn);
    }

    @Override
    public byte[] hostPage(long gfn) {
        return memory.page(checkedIndex(gfn));
    }

    @Override
    public byte[] hostPageIfPresent(long gfn) {
        return memory.pageIfPresent(checkedIndex(gfn));
    }

    @Override
    public long residentPages() {
        return memory.residentPages();
    }

    @Override
    public long[] getDirtyLog() {
        return dirtyLog == null ? new long[0] : dirtyLog.harvest();
    }

    @Override
    public void markPageDirty(long gfn) {
        markDirty(checkedIndex(gfn));
    }

    void markDirty(long index) {
        if (dirtyLog != null) {
            dirtyLog.mark(index);
        }
    }

    /** The page at {@code index} for writing: allocated if new, and marked dirty when logging. */
    byte[] pageForWrite(long index) {
        markDirty(index);
        return memory.page(index);
    }

    /** Gives the budget back this slot's page-track chunks; with {@code memory} too on a delete. */
    void release(boolean memoryToo) {
        for (GfnTrackImpl t : gfnTrack) {
            t.release();
        }
        if (memoryToo) {
            memory.release();
        }
    }

    @Override
    public int lpageDisallowCount(long gfn, int level) {
        return lpage.count(gfn, level);
    }

    @Override
    public void updateLpageDisallow(long gfn, int delta) {
        checkedIndex(gfn);
        lpage.update(gfn, delta);
    }

    @Override
    public GfnTrack gfnTrack(int mode) {
        if (mode < 0 || mode >= gfnTrack.length) {
            throw new IllegalArgumentException("track mode index " + mode + ": accepted 0 to " + (gfnTrack.length - 1));
        }
        return gfnTrack[mode];
    }

    private long checkedIndex(long gfn) {
        long idx = gfn - baseGfn;
        if (idx < 0 || idx >= npages) {
            throw new IllegalArgumentException("gfn 0x" + Long.toHexString(gfn) + " is not in slot " + id
                    + " [0x" + Long.toHexString(baseGfn) + ", 0x" + Long.toHexString(endGfn()) + ")");
        }
        return idx;
    }

    @Override
    public String toString() {
        return "slot " + id + " [0x" + Long.toHexString(baseGfn) + ", 0x" + Long.toHexString(endGfn()) + ")";
    }
}
