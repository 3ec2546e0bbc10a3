package org.shadowbox.pagetrack;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Vm;

/**
 * The page-track service: {@code kvm_slot_page_track_add_page},
 * {@code kvm_slot_page_track_remove_page} and {@code kvm_slot_page_track_is_active}.
 *
 * <p>The service is bundle-scoped: every add and remove is attributed to the bundle that
 * got the service (its <em>owner</em>). An owner can remove only what it added, and when
 * the owner releases the service (its bundle stops) all its tracks are removed, so no
 * write protection leaks.
 *
 * <p>Counts are per memslot, per mode, per 4 KiB page, unsigned 16 bits. A gfn in no
 * memslot is refused with a {@link org.shadowbox.vm.VmException} (KVM 6.x: -EINVAL).
 * Add and remove take the VM's MMU lock; {@link #isActive} takes none.
 */
@ProviderType
public interface PageTrack {

    /**
     * Tracks {@code gfn} once more. As KVM: the count is refused (warning logged, count
     * unchanged) if it would pass 65535, yet large pages are disallowed for the gfn either
     * way; in WRITE mode every existing mapping of the gfn is write-protected at every level
     * and remote TLBs are flushed once if any mapping changed. Refused in one line, nothing
     * changed, for an external tracker on a VM created with {@code mmu=tdp} and
     * {@code policy=legacy}: KVM's TDP fault path from before page track never asks it.
     *
     * @return false if the count was at its bound and stayed there
     */
    boolean add(Vm vm, long gfn, TrackMode mode);

    /**
     * Drops one of this owner's tracks of {@code gfn}. As KVM: refused (warning, count
     * unchanged) below zero, large pages allowed again either way; no mapping is touched
     * (write access comes back on the next write fault). Refused with an error if this owner
     * holds no track of the gfn.
     *
     * @return false if the slot's count was already zero
     */
    boolean remove(Vm vm, long gfn, TrackMode mode);

    /** Count != 0. O(1), lock-free, allocation-free; false for a gfn in no slot. */
    boolean isActive(Vm vm, long gfn, TrackMode mode);

    /** The slot's count for {@code gfn} (all owners); 0 for a gfn in no slot. */
    int count(Vm vm, long gfn, TrackMode mode);

    /**
     * The symbolic name of the bundle this instance attributes its calls to, for display. Not an
     * identity: two bundles may share a name; {@link #ownerBundle()} tells them apart.
     */
    String owner();

    /**
     * The owner this instance attributes its calls to: the bundle that got the service, by id
     * and location.
     *
     * @since 2.1
     */
    Owner ownerBundle();

    /** Every tracked gfn of the VM with its count per owner ({@link TrackedPage#holders}), sorted by gfn. */
    List<TrackedPage> tracked(Vm vm);

    /** The notifiers attached to the VM, newest (first called) first. */
    List<NotifierInfo> notifiers(Vm vm);
}
