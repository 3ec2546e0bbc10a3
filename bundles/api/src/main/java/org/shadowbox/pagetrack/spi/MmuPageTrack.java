package org.shadowbox.pagetrack.spi;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Vm;

/**
 * Page track as the MMU holds it: the tracker API plus the {@code *Locked} variants that the
 * MMU calls from inside its own critical sections ({@code account_shadowed} runs under
 * {@code kvm->mmu_lock}, which is not reentrant). Only an owner in the MMU role may call them;
 * for any other owner they throw. Platform only (package {@code org.shadowbox.pagetrack.spi}).
 */
@ProviderType
public interface MmuPageTrack extends PageTrack {

    /**
     * {@code kvm_slot_page_track_add_page} for the MMU's own track, as {@link #add}; the caller
     * holds the VM's MMU lock.
     */
    boolean addLocked(Vm vm, long gfn, TrackMode mode);

    /**
     * {@code kvm_slot_page_track_remove_page} of one of the MMU's own tracks, as
     * {@link #remove}; the caller holds the VM's MMU lock.
     */
    boolean removeLocked(Vm vm, long gfn, TrackMode mode);

    /** {@link #tracked}; the caller holds the VM's MMU lock (the MMU's checker). */
    List<TrackedPage> trackedLocked(Vm vm);
}
