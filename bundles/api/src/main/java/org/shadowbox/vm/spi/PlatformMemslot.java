package org.shadowbox.vm.spi;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Memslot;

/**
 * A memslot as the platform sees it: the tracker API plus the counters only page track and
 * the MMU may change. Reach it through {@link Platform#slot}.
 */
@ProviderType
public interface PlatformMemslot extends Memslot {

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
