package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Vcpu;

/**
 * KVM before the 2016 page-track series (Linux 4.5), the seed's "before":
 * <ul>
 * <li>{@code account_shadowed} counts every indirect page, whatever its level, in the slot's
 *     large-page counts ({@code kvm_mmu_gfn_disallow_lpage}; 4.5's {@code write_count}) and
 *     sets no page-track count; {@code kvm_mmu_get_page} write-protects the gfn of every new
 *     indirect page through the rmap ({@code rmap_write_protect});
 * <li>{@code mmu_need_write_protect} walks the shadow pages hashed for the gfn: a non-leaf
 *     page, or any page when unsyncing is not allowed, keeps the gfn read-only; otherwise a
 *     second walk marks the leaf pages unsync ({@code kvm_unsync_pages});
 * <li>large pages follow {@code has_wrprotected_page}, which reads the same per-slot counts;
 * <li>no {@code page_fault_handle_page_track}: a write fault on a write-protected shadowed gfn
 *     takes the MMU lock, walks and fetches the shadow and attempts the mapping, which ends
 *     read-only, before the access is emulated;
 * <li>the pte-write handler is called by the emulator ({@link EmulatorPteWrite}), not as a
 *     page-track notifier.
 * </ul>
 * External trackers did not exist in 4.5. So that the guest sees the same results under
 * both policies while an external tracker (KVMGT's role) is attached, the hash walk is
 * preceded by the page-track count read: under this policy only external owners hold counts.
 */
final class LegacyPolicy extends WriteProtectPolicy {
    static final LegacyPolicy INSTANCE = new LegacyPolicy();

    private LegacyPolicy() {
    }

    @Override
    String name() {
        return "legacy";
    }

    @Override
    void accountShadowed(ShadowMmu mmu, ShadowPage sp) {
        Platform.slot(mmu.vm.slotForGfn(sp.gfn)).updateLpageDisallow(sp.gfn, 1);
    }

    @Override
    void unaccountShadowed(ShadowMmu mmu, ShadowPage sp) {
        Platform.slot(mmu.vm.slotForGfn(sp.gfn)).updateLpageDisallow(sp.gfn, -1);
    }

    @Override
    boolean rmapWriteProtectOnCreate(int level) {
        return true;
    }

    /** {@code mmu_need_write_protect} (4.5), after the external trackers' count (see the class comment). */
    @Override
    boolean needWriteProtect(ShadowMmu mmu, Vcpu vcpu, long gfn, boolean canUnsync) {
        if (vcpu != null ? mmu.pageTrack.isActive(vcpu, gfn, TrackMode.WRITE)
                : mmu.pageTrack.isActive(mmu.vm, gfn, TrackMode.WRITE)) {
            return true;
        }
        boolean needUnsync = false;
        for (ShadowPage sp = mmu.pages.first(gfn); sp != null; sp = mmu.pages.next(sp)) {
            if (sp.gfn != gfn || sp.direct() || sp.invalid()) {
                continue;
            }
            if (!canUnsync || sp.level() != 1) {
                return true;
            }
            needUnsync |= !sp.unsync;
        }
        if (needUnsync) {
            // kvm_unsync_pages: a second walk of the hash chain.
            for (ShadowPage sp = mmu.pages.first(gfn); sp != null; sp = mmu.pages.next(sp)) {
                if (sp.gfn == gfn && !sp.direct() && !sp.invalid() && !sp.unsync) {
                    mmu.unsyncPage(sp);
                }
            }
        }
        return false;
    }

    @Override
    boolean fastPageTrackPath() {
        return false;
    }

    @Override
    boolean pteWriteByNotifier() {
        return false;
    }

    @Override
    boolean tracksShadowedTables() {
        return false;
    }
}
