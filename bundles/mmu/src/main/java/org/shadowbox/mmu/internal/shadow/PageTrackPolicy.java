package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Memslot;

/**
 * KVM since the 2016 page-track series: a non-leaf indirect page write-tracks its gfn
 * through page track (which also disallows large pages and write-protects the gfn); a leaf
 * page only disallows large pages and is write-protected through the rmap; whether a gfn
 * stays read-only is first the O(1) track count; a present write fault on a tracked gfn is
 * emulated at once; {@code kvm_mmu_pte_write} is a page-track notifier.
 */
final class PageTrackPolicy extends WriteProtectPolicy {
    static final PageTrackPolicy INSTANCE = new PageTrackPolicy();

    private PageTrackPolicy() {
    }

    @Override
    String name() {
        return "pagetrack";
    }

    @Override
    void accountShadowed(ShadowMmu mmu, ShadowPage sp) {
        Memslot slot = mmu.vm.slotForGfn(sp.gfn);
        if (sp.level() > 1) {
            mmu.pageTrack.addLocked(mmu.vm, sp.gfn, TrackMode.WRITE);
        } else {
            Platform.slot(slot).updateLpageDisallow(sp.gfn, 1);
        }
    }

    @Override
    void unaccountShadowed(ShadowMmu mmu, ShadowPage sp) {
        if (sp.level() > 1) {
            mmu.pageTrack.removeLocked(mmu.vm, sp.gfn, TrackMode.WRITE);
        } else {
            Platform.slot(mmu.vm.slotForGfn(sp.gfn)).updateLpageDisallow(sp.gfn, -1);
        }
    }

    @Override
    boolean rmapWriteProtectOnCreate(int level) {
        return level == 1; // higher levels: page track's add_page write-protects
    }

    /**
     * {@code mmu_need_write_protect} (4.6): a write-tracked gfn stays read-only; otherwise every
     * indirect page of the gfn (all at level 1, the others are tracked) is marked unsync,
     * unless unsyncing is not allowed.
     */
    @Override
    boolean needWriteProtect(ShadowMmu mmu, Vcpu vcpu, long gfn, boolean canUnsync) {
        if (vcpu != null ? mmu.pageTrack.isActive(vcpu, gfn, TrackMode.WRITE)
                : mmu.pageTrack.isActive(mmu.vm, gfn, TrackMode.WRITE)) {
            return true;
        }
        for (ShadowPage sp = mmu.pages.first(gfn); sp != null; sp = mmu.pages.next(sp)) {
            if (sp.gfn != gfn || sp.direct() || sp.invalid()) {
                continue;
            }
            if (!canUnsync) {
                return true;
            }
            if (sp.unsync) {
                continue;
            }
            if (sp.level() != 1) {
                throw new IllegalStateException("unsync of " + sp + ": only level-1 pages go out of sync");
            }
            mmu.unsyncPage(sp);
        }
        return false;
    }

    @Override
    boolean fastPageTrackPath() {
        return true;
    }

    @Override
    boolean pteWriteByNotifier() {
        return true;
    }

    @Override
    boolean tracksShadowedTables() {
        return true;
    }
}
