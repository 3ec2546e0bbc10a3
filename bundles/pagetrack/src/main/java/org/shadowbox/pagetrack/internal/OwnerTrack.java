package org.shadowbox.pagetrack.internal;

import org.shadowbox.vm.spi.Platform;

import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.Owner;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.pagetrack.spi.MmuPageTrack;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * {@link PageTrack} as one owner uses it: KVM's add/remove/is_active (via
 * {@link SlotPageTrack}) plus the owner's bookkeeping, so that an owner removes only its
 * own tracks and {@link #release()} gives back everything it holds. Under OSGi there is one
 * per using bundle; outside OSGi get one from {@link PageTrackCore#forOwner}.
 */
public final class OwnerTrack implements MmuPageTrack {
    private final PageTrackCore core;
    /** The owner's label, "name [id]": what refusals and warnings name. */
    private final String owner;
    private final Owner identity;
    private final TrackerRole role;
    private volatile boolean released;

    OwnerTrack(PageTrackCore core, Owner identity, TrackerRole role) {
        this.core = core;
        this.identity = identity;
        this.owner = identity.label();
        this.role = role;
    }

    @Override
    public String owner() {
        return identity.symbolicName();
    }

    @Override
    public Owner ownerBundle() {
        return identity;
    }

    public TrackerRole role() {
        return role;
    }

    /**
     * {@code kvm_slot_page_track_add_page} attributed to this owner. Takes the MMU lock.
     * Refused (nothing changed) for a gfn in no memslot, a destroyed VM or a released owner,
     * and for an external owner on a VM that runs KVM's pre-series TDP path
     * ({@link #requireTracked}).
     */
    @Override
    public boolean add(Vm vm, long gfn, TrackMode mode) {
        requireMode(mode);
        requireTracked(vm);
        VmState st = core.stateForUpdate(vm);
        ReentrantLock lock = Platform.mmuLock(vm);
        lock.lock();
        try {
            // A tracker's add may be refused: a new counter chunk is charged to the budget first.
            Memslot slot = vm.slotForGfn(gfn);
            if (slot != null) {
                Platform.slot(slot).gfnTrack(mode.ordinal()).reserve(gfn);
            }
            return add0(st, vm, gfn, mode);
        } finally {
            lock.unlock();
        }
    }

    /** {@link #add} from inside the MMU's critical section: the MMU's role only. */
    @Override
    public boolean addLocked(Vm vm, long gfn, TrackMode mode) {
        requireMmuRole("addLocked");
        requireMode(mode);
        // Lock order mmu_lock -> registry: no registry section takes the MMU lock.
        return add0(core.stateForUpdate(vm), vm, gfn, mode);
    }

    private boolean add0(VmState st, Vm vm, long gfn, TrackMode mode) {
        assertMmuLockHeld(vm);
        requireUsable(vm);
        Memslot slot = requireSlot(vm, gfn, "track");
        boolean counted = core.slotPageTrack().addPage(vm, slot, gfn, mode);
        if (counted) {
            st.counts(this, slot, mode, true).add(gfn, 1);
        }
        return counted;
    }

    /**
     * {@code kvm_slot_page_track_remove_page} of one of this owner's tracks. Takes the MMU
     * lock. Refused (nothing changed) if this owner holds no track of the gfn in its slot.
     */
    @Override
    public boolean remove(Vm vm, long gfn, TrackMode mode) {
        requireMode(mode);
        ReentrantLock lock = Platform.mmuLock(vm);
        lock.lock();
        try {
            return remove0(vm, gfn, mode);
        } finally {
            lock.unlock();
        }
    }

    /** {@link #remove} from inside the MMU's critical section: the MMU's role only. */
    @Override
    public boolean removeLocked(Vm vm, long gfn, TrackMode mode) {
        requireMmuRole("removeLocked");
        requireMode(mode);
        return remove0(vm, gfn, mode);
    }

    private boolean remove0(Vm vm, long gfn, TrackMode mode) {
        assertMmuLockHeld(vm);
        VmState st = core.state(vm);
        requireUsable(vm);
        Memslot slot = requireSlot(vm, gfn, "untrack");
        GfnCounts mine = st == null ? null : st.counts(this, slot, mode, false);
        if (mine == null || mine.get(gfn) == 0) {
            throw new VmException("owner " + owner + " holds no " + mode.name().toLowerCase() + " track of gfn 0x"
                    + Long.toHexString(gfn) + " in VM " + vm.name() + ": an owner removes only what it added");
        }
        // The owner gives up its claim even if the slot count was already 0 (KVM then
        // still allows large pages): retrying could only drive the lpage count lower.
        mine.add(gfn, -1);
        return core.slotPageTrack().removePage(vm, slot, gfn, mode);
    }

    /** {@code kvm_slot_page_track_is_active}: count != 0. Lock-free, allocation-free. */
    @Override
    public boolean isActive(Vm vm, long gfn, TrackMode mode) {
        return core.isActive(vm, gfn, mode);
    }

    @Override
    public boolean isActive(Vcpu vcpu, long gfn, TrackMode mode) {
        return core.isActive(vcpu, gfn, mode);
    }

    @Override
    public int count(Vm vm, long gfn, TrackMode mode) {
        Memslot slot = vm.slotForGfn(gfn);
        return slot == null ? 0 : Platform.slot(slot).gfnTrack(mode.ordinal()).count(gfn);
    }

    @Override
    public List<TrackedPage> tracked(Vm vm) {
        ReentrantLock lock = Platform.mmuLock(vm);
        lock.lock();
        try {
            return trackedLocked(vm);
        } finally {
            lock.unlock();
        }
    }

    /** {@link #tracked} with the MMU lock held by the caller (the MMU's checker). */
    @Override
    public List<TrackedPage> trackedLocked(Vm vm) {
        assertMmuLockHeld(vm);
        VmState st = core.state(vm);
        return st == null ? List.of() : st.tracked();
    }

    @Override
    public List<NotifierInfo> notifiers(Vm vm) {
        return core.notifiers(vm);
    }

    /**
     * Removes every track this owner holds, in every VM, with KVM's remove semantics, and
     * refuses further adds and removes. What the owner held in deleted or moved slots was
     * already dropped with those slots. Idempotent.
     */
    public void release() {
        released = true; // before the snapshot: an add that missed it is in a state we visit
        for (VmState st : core.states()) {
            Vm vm = st.vm;
            ReentrantLock lock = Platform.mmuLock(vm);
            lock.lock();
            try {
                Map<Memslot, GfnCounts[]> mine = st.removeOwner(this);
                if (mine == null) {
                    continue;
                }
                for (Map.Entry<Memslot, GfnCounts[]> e : mine.entrySet()) {
                    for (TrackMode mode : TrackMode.values()) {
                        GfnCounts c = e.getValue()[mode.ordinal()];
                        if (c == null) {
                            continue;
                        }
                        for (long gfn : c.sortedGfns()) {
                            for (int n = c.get(gfn); n > 0; n--) {
                                core.slotPageTrack().removePage(vm, e.getKey(), gfn, mode);
                            }
                        }
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    }

    public boolean released() {
        return released;
    }

    private void requireUsable(Vm vm) {
        if (released) {
            throw new VmException("page track of owner " + owner + " was released (its bundle stopped): get the service again");
        }
        if (vm.destroyed()) {
            throw new VmException("VM " + vm.name() + " is destroyed: no page can be tracked in it");
        }
    }

    /**
     * A VM created with {@code mmu=tdp} and {@code policy=legacy} runs KVM's TDP fault path from
     * before the page-track series, which never asks page track: a page an external tracker
     * tracked there would be mapped writable and the guest's writes to it never reported. KVM
     * then had no external trackers at all, so the track is refused rather than silently
     * broken. (Under {@code mmu=shadow} the legacy policy honours external tracks: see the
     * MMU's {@code LegacyPolicy}.) The MMU's own role never tracks under TDP.
     */
    private void requireTracked(Vm vm) {
        if (role == TrackerRole.EXTERNAL && VmSpec.MMU_TDP.equals(vm.spec().option(VmSpec.MMU))
                && VmSpec.POLICY_LEGACY.equals(vm.spec().option(VmSpec.POLICY))) {
            throw new VmException("cannot track pages of VM " + vm.name() + " (owner " + owner + "): it runs mmu=tdp with"
                    + " policy=legacy, KVM's TDP fault path from before page track, which never asks it; track pages"
                    + " on a VM with policy=pagetrack (the default)");
        }
    }

    private void requireMmuRole(String what) {
        if (role != TrackerRole.MMU) {
            throw new VmException("owner " + owner + " may not call " + what + ": only the platform's MMU holds the MMU role");
        }
    }

    /** {@code lockdep_assert_held(&kvm->mmu_lock)}; on in every test. */
    static void assertMmuLockHeld(Vm vm) {
        assert Platform.mmuLock(vm).isHeldByCurrentThread() : "mmu_lock of VM " + vm.name() + " not held";
    }

    private static void requireMode(TrackMode mode) {
        if (mode == null) {
            throw new VmException("no track mode given: accepted write");
        }
    }

    private static Memslot requireSlot(Vm vm, long gfn, String verb) {
        Memslot slot = vm.slotForGfn(gfn);
        if (slot != null) {
            return slot;
        }
        StringBuilder sb = new StringBuilder();
        for (Memslot s : vm.memslots()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(s.id()).append(" [0x").append(Long.toHexString(s.baseGfn()))
                    .append("-0x").append(Long.toHexString(s.endGfn() - 1)).append(']');
        }
        throw new VmException("cannot " + verb + " gfn 0x" + Long.toHexString(gfn) + ": it is in no memslot of VM "
                + vm.name() + "; " + (sb.length() == 0 ? "it has no memslots" : "its memslots are " + sb));
    }

    @Override
    public String toString() {
        return "PageTrack[owner " + owner + ", " + role + (released ? ", released]" : "]");
    }
}
