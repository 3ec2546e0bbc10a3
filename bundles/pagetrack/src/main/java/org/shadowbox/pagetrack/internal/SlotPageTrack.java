package org.shadowbox.pagetrack.internal;

import org.shadowbox.vm.spi.Platform;

import java.lang.System.Logger.Level;

import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.spi.GfnTrack;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * KVM's {@code kvm_slot_page_track_add_page} and {@code kvm_slot_page_track_remove_page}
 * on a memslot's raw counters, with no notion of owners (that is {@link OwnerTrack}'s job).
 * Both run with {@code kvm->mmu_lock} held by the caller.
 */
final class SlotPageTrack {
    /** USHRT_MAX: the 16-bit counter's bound. */
    static final int MAX_COUNT = 0xffff;

    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");

    private final NotifierGuard guard;
    private volatile HookEntry hook;

    SlotPageTrack(NotifierGuard guard) {
        this.guard = guard;
    }

    void setHook(HookEntry h) {
        hook = h;
    }

    HookEntry hook() {
        return hook;
    }

    /**
     * {@code kvm_slot_page_track_add_page}: (1) {@code update_gfn_track(+1)}, refused with a
     * warning if the count would pass 65535; (2) {@code kvm_mmu_gfn_disallow_lpage}, always,
     * even when (1) was refused; (3) in WRITE mode {@code kvm_mmu_slot_gfn_write_protect}
     * and, if it changed an spte, one {@code kvm_flush_remote_tlbs}. Without an MMU hook
     * nothing is mapped, so (3) has nothing to do.
     *
     * @return false if the count was at its bound and stayed there
     */
    boolean addPage(Vm vm, Memslot slot, long gfn, TrackMode mode) {
        assert Platform.mmuLock(vm).isHeldByCurrentThread();
        boolean counted = updateGfnTrack(vm, slot, gfn, mode, 1);
        Platform.slot(slot).updateLpageDisallow(gfn, 1);
        if (mode == TrackMode.WRITE) {
            HookEntry h = hook;
            if (h != null && guard.slotGfnWriteProtect(h, vm, slot, gfn)) {
                guard.flushRemoteTlbs(h, vm);
            }
        }
        return counted;
    }

    /**
     * {@code kvm_slot_page_track_remove_page}: {@code update_gfn_track(-1)}, refused with a
     * warning below 0, then {@code kvm_mmu_gfn_allow_lpage}, always. Touches no spte and
     * flushes nothing: write access returns lazily on the next write fault.
     *
     * @return false if the count was already 0
     */
    boolean removePage(Vm vm, Memslot slot, long gfn, TrackMode mode) {
        assert Platform.mmuLock(vm).isHeldByCurrentThread();
        boolean counted = updateGfnTrack(vm, slot, gfn, mode, -1);
        Platform.slot(slot).updateLpageDisallow(gfn, -1);
        return counted;
    }

    /** {@code update_gfn_track}: the WARN_ON bounds check, then the count. */
    private static boolean updateGfnTrack(Vm vm, Memslot slot, long gfn, TrackMode mode, int delta) {
        GfnTrack track = Platform.slot(slot).gfnTrack(mode.ordinal());
        int val = track.count(gfn);
        if (val + delta < 0 || val + delta > MAX_COUNT) {
            LOG.log(Level.WARNING, "page track: " + mode + " count of gfn 0x" + Long.toHexString(gfn) + " in slot "
                    + slot.id() + " of VM " + vm.name() + " is " + val + "; " + (delta > 0 ? "add" : "remove")
                    + " refused (counts are 0 to " + MAX_COUNT + "), large-page count still updated as KVM does");
            return false;
        }
        track.add(gfn, delta);
        return true;
    }
}
