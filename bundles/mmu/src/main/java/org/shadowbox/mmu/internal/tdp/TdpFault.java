package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.mmu.internal.paging.Rights;

import org.shadowbox.vm.spi.Platform;

import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Memslot;

/**
 * The TDP fault handler: KVM's {@code tdp_page_fault} (2016) with
 * {@code page_fault_handle_page_track}, {@code mapping_level} and {@code __direct_map}.
 *
 * <p>Order: a present write violation on a write-tracked gfn is emulated at once, without
 * the MMU lock (so an external tracker sees every write, as KVMGT needs); a gpa in no memslot
 * is MMIO and emulated; otherwise, under the MMU lock, the frame is mapped at the largest
 * level whose guest-physical range lies in the slot with a zero disallow count, writable
 * unless the gfn is write-tracked ({@code mmu_need_write_protect}: no shadow pages exist
 * here, so only the track counts), and a write that ends on a read-only entry is emulated.
 *
 * <p>Under {@code policy=legacy}, KVM before the page-track series (4.5): there is no page
 * track to ask, so neither step asks it. The fault path goes straight to the memslot and the
 * mapping, and {@code mmu_need_write_protect}, which then walked the gfn's indirect shadow
 * pages, finds none under TDP: the leaf is writable unless the slot is read-only. Page track
 * refuses external tracks on such a VM, so no tracked gfn can be mapped writable.
 */
final class TdpFault {
    /** The violation was fixed (or was spurious): the access restarts. */
    static final int RET_FIXED = 0;
    /** Emulate the access at the walked gpa. */
    static final int RET_EMULATE = 1;
    /** The guest's own #PF (from its walk; never an exit). */
    static final int RET_GUEST_FAULT = 2;

    private TdpFault() {
    }

    /**
     * {@code page_fault_handle_page_track} ({@link Rights#handlePageTrack}, shared with the
     * shadow MMU), each page-track lookup counted. Absent before the series
     * ({@code policy=legacy}): false without asking.
     */
    static boolean handlePageTrack(TdpMmu mmu, TdpVcpu v, int errorCode, long gfn) {
        if (mmu.legacy || !Rights.pageTrackCandidate(errorCode)) {
            return false;
        }
        v.counting.inc(TdpCounter.PAGE_TRACK_LOOKUPS);
        return Rights.handlePageTrack(errorCode, mmu.pageTrack, mmu.vm, gfn);
    }

    /** {@code kvm_page_track_is_active(WRITE)}, counted as one of the fault handler's page-track lookups. */
    private static boolean countedIsActive(TdpMmu mmu, TdpVcpu v, long gfn) {
        v.counting.inc(TdpCounter.PAGE_TRACK_LOOKUPS);
        return mmu.pageTrack.isActive(mmu.vm, gfn, TrackMode.WRITE);
    }

    /**
     * {@code tdp_page_fault} for a violation on {@code gfn}.
     *
     * @param errorCode PRESENT if a leaf mapped the gfn, plus the access's WRITE, USER, FETCH
     * @return {@link #RET_FIXED} or {@link #RET_EMULATE}
     */
    static int pageFault(TdpMmu mmu, TdpVcpu v, long gfn, int errorCode) {
        v.counting.inc(TdpCounter.PF_TAKEN);
        if (handlePageTrack(mmu, v, errorCode, gfn)) {
            v.counting.inc(TdpCounter.PF_EMULATE);
            v.counting.inc(TdpCounter.PF_EMULATE_TRACKED);
            return RET_EMULATE;
        }
        v.counting.inc(TdpCounter.HOST_MAPPING_LEVEL); // mapping_level -> host_mapping_level
        v.counting.inc(TdpCounter.GFN_TO_PFN); // try_async_pf
        Memslot slot = mmu.vm.slotForGfn(gfn);
        boolean writeFault = (errorCode & Pfec.WRITE) != 0;
        if (slot == null) {
            v.counting.inc(TdpCounter.PF_MMIO);
            return RET_EMULATE;
        }
        if (!slot.readonly()) {
            // get_user_pages_fast: the host page is made resident here, outside the lock and every
            // vCPU mode, so the walk's TLB fill allocates nothing (the shadow MMU's faultInHostPage)
            Platform.slot(slot).hostPage(gfn);
        }
        boolean writable;
        Platform.mmuLock(mmu.vm).lock();
        try {
            v.counting.inc(TdpCounter.MMU_LOCK_FAULT);
            v.counting.inc(TdpCounter.FAULT_LOCK_CHECKS); // mmu_notifier_retry, make_mmu_pages_available
            int level = Rights.mappingLevel(slot, gfn, Memslot.LEVEL_1G);
            long e = mmu.leaf(gfn);
            if (Spte.isPresent(e) && mmu.leafLevel() == level && (!writeFault || Spte.isWritable(e))) {
                v.counting.add(TdpCounter.SHADOW_WALK_STEPS, mmu.leafWalkSteps()); // __direct_map's walk found it done
                v.counting.inc(TdpCounter.PF_SPURIOUS); // another vCPU fixed it meanwhile
                return RET_FIXED;
            }
            // mmu_need_write_protect: with no shadow pages, only the track keeps a gfn read-only
            // (and before the series nothing did).
            writable = !slot.readonly() && (mmu.legacy || !countedIsActive(mmu, v, gfn));
            mmu.map(gfn, level, writable, slot);
            v.counting.add(TdpCounter.SHADOW_WALK_STEPS, TdpMmu.ROOT_LEVEL - level + 1); // __direct_map: root down to the leaf
            v.counting.inc(TdpCounter.PF_FIXED);
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
        if (writeFault && !writable) {
            if (slot.readonly()) {
                v.counting.inc(TdpCounter.PF_MMIO); // a write to a read-only slot exits as MMIO
            } else {
                v.counting.inc(TdpCounter.PF_EMULATE);
            }
            return RET_EMULATE;
        }
        return RET_FIXED;
    }
}
