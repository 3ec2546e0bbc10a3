package org.shadowbox.pagetrack.spi;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Vcpu;
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

    /**
     * {@code kvm_page_track_is_active(vcpu, gfn, mode)} as the series has it: {@link #isActive}
     * with the memslot found through the vCPU's own lookup ({@code kvm_vcpu_gfn_to_memslot}, its
     * last-used slot: {@link org.shadowbox.vm.spi.PlatformVcpu#gfnToMemslot}), not the VM's
     * shared one. The same answer as {@code isActive(vcpu.vm(), gfn, mode)}. For the fault path,
     * on the thread driving {@code vcpu}; lock-free, allocation-free; false outside every slot.
     *
     * @since 1.2
     */
    boolean isActive(Vcpu vcpu, long gfn, TrackMode mode);
}
