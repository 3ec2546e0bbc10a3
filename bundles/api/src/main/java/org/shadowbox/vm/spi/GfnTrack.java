package org.shadowbox.vm.spi;


import org.osgi.annotation.versioning.ProviderType;

/**
 * Raw per-page, unsigned 16-bit counters of one memslot for one tracking mode, as
 * KVM's {@code unsigned short *gfn_track[KVM_PAGE_TRACK_MAX]}. Storage is allocated
 * lazily in chunks, so a slot that tracks nothing costs nothing (KVM since 6.9 allocates
 * lazily per slot; Shadowbox goes further and grows with the tracked ranges).
 *
 * <p>Reads are lock-free and O(1). Writers hold {@code kvm->mmu_lock}. Bounds are not
 * checked here: page track refuses to wrap before it calls {@link #add}.
 */
@ProviderType
public interface GfnTrack {
    /** Room for READ and EXEC modes beside WRITE. */
    int MAX_MODES = 4;

    /** The count of {@code gfn} (0 to 65535); 0 for a gfn the slot does not hold. */
    int count(long gfn);

    /** Adds {@code delta} to the count and returns the new count. Caller holds the MMU lock. */
    int add(long gfn, int delta);

    /**
     * Makes sure the counter of {@code gfn} has storage, charging a new chunk to the VM's
     * memory budget: for a tracker's {@code add}, which may be refused, before it changes
     * anything. (The MMU's own tracks under {@code account_shadowed} must not fail half done:
     * their chunks are counted, never refused.) Caller holds the MMU lock.
     *
     * @throws org.shadowbox.vm.VmException the budget's one line, if a new chunk does not fit
     * @since 1.1
     */
    default void reserve(long gfn) {
    }

    /** Host bytes the counters occupy now. */
    long allocatedBytes();
}
