package org.shadowbox.vm.spi;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Memslot;

/**
 * A memslot as the platform sees it: the tracker API plus its host pages (what the MMU's TLBs
 * cache and its emulator writes) and the counters only page track and the MMU may change. Reach it through {@link Platform#slot}.
 */
@ProviderType
public interface PlatformMemslot extends Memslot {

    /**
     * The 4 KiB array backing {@code gfn}, allocated zeroed on first touch: what a
     * hypervisor's TLB entry caches. Callers read and write it directly (little-endian);
     * such writes are not dirty-logged: a writer calls {@link #markPageDirty} (as KVM maps
     * a logged page read-only until its first write marks it).
     */
    byte[] hostPage(long gfn);

    /** {@code mark_page_dirty_in_slot}: records {@code gfn} in the dirty log, if the slot keeps one. */
    void markPageDirty(long gfn);

    /** The backing array if the guest has touched the page, else {@code null}. */
    byte[] hostPageIfPresent(long gfn);

    /**
     * KVM's {@code update_gfn_disallow_lpage_count}: adds {@code delta} (+1 or -1) to the
     * disallow count of the large frames containing {@code gfn} at every large level.
     * The caller holds {@code kvm->mmu_lock}.
     */
    void updateLpageDisallow(long gfn, int delta);

    /**
     * {@code slot->arch.gfn_track[mode]}: the unsigned 16-bit page-track counters of one
     * tracking mode (the mode's ordinal). The page-track bundle gives them meaning.
     *
     * @param mode 0 to {@link GfnTrack#MAX_MODES} - 1
     */
    GfnTrack gfnTrack(int mode);
}
