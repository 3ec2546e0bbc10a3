package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.GuestWalker;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.paging.Rights;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Memslot;

/**
 * The shadow page fault handler: KVM's {@code FNAME(page_fault)} with
 * {@code page_fault_handle_page_track}, {@code mapping_level} and {@code FNAME(fetch)}, for
 * 64-bit, PAE and 32-bit guests. The guest walk is the mode's own (a PAE guest's PDPTEs are the
 * ones loaded at CR3 write); the shadow walk starts at the root, or for PAE and 32-bit guests at
 * the PAE root's entry for gva bits 31:30, and is the same 512-entry walk in every mode. A
 * 32-bit guest's pages are got with their quadrant, and its 4 MiB page is mapped by 2 MiB
 * sptes (or 4 KiB ones under a direct page), one half per fault.
 *
 * <p>Order, as in KVM: walk the guest tables (setting A/D host-side); a guest fault goes to
 * the guest; a present write fault on a write-tracked gfn is emulated at once, after the flood
 * counts along the shadow walk are cleared, without the MMU lock; otherwise, under the MMU
 * lock, the shadow pages are got and linked level by level and the leaf spte is set, and a
 * write that ends on a write-protected spte is emulated. Under the legacy policy
 * ({@link WriteProtectPolicy#fastPageTrackPath()} false) there is no fast return: every such
 * write takes the MMU lock, the shadow walk and the mapping attempt first, in every paging mode.
 *
 * <p>Shadow pages inherit, per level, the rights of the guest entries above them (the fix
 * KVM made in 2021, "Use the correct inherited permissions to get shadow page"): the 2016
 * code gave every level the rights of the last non-leaf entry, which could share a shadow
 * page between paths of different rights and let a guest write through a read-only PDPTE.
 */
final class PageFault {
    /** The fault was fixed: retry the access. */
    static final int RET_FIXED = 0;
    /** Emulate the access at {@code walk.gpa}. */
    static final int RET_EMULATE = 1;
    /** The guest's own #PF, error code in {@code walk.errorCode}. */
    static final int RET_GUEST_FAULT = 2;

    private PageFault() {
    }

    /**
     * {@code page_fault_handle_page_track} ({@link Rights#handlePageTrack}'s rule, shared with
     * TDP): the count read through the vCPU's own memslot lookup, as 4.6's
     * {@code kvm_page_track_is_active(vcpu, gfn, mode)}.
     */
    static boolean handlePageTrack(ShadowMmu mmu, VcpuMmu v, int errorCode, long gfn) {
        return Rights.pageTrackCandidate(errorCode) && mmu.pageTrack.isActive(v.vcpu, gfn, TrackMode.WRITE);
    }

    /**
     * {@code shadow_page_table_clear_flood}: the flood counts of the pages along the walk of
     * {@code gva}. Returns the shadow entries walked.
     */
    static int clearFlood(ShadowMmu mmu, VcpuMmu v, ShadowPage top, int topLevel, long gva) {
        VcpuMode.beginLockless(v.requests);
        try {
            ShadowPage sp = top;
            int steps = 0;
            for (int level = topLevel; sp != null && level >= 1; level--) {
                steps++;
                sp.writeFloodingCount = 0; // a plain store racing with the flood handler's counts under the lock, as in KVM: either order is a valid history
                long spte = sp.spteLockless(index(gva, level));
                if (!Spte.isPresent(spte) || Spte.isLast(spte, level)) {
                    return steps;
                }
                sp = mmu.pageLockless(Spte.childId(spte));
            }
            return steps;
        } finally {
            VcpuMode.endLockless(v.requests);
        }
    }

    static int index(long gva, int level) {
        return (int) ((gva >>> (12 + 9 * (level - 1))) & 511);
    }

    /**
     * {@code FNAME(page_fault)}.
     *
     * @param errorCode the hardware error code of the spte walk
     * @param access    the access: {@link Pfec#WRITE}, {@link Pfec#USER}, {@link Pfec#FETCH}
     * @return {@link #RET_FIXED}, {@link #RET_EMULATE} or {@link #RET_GUEST_FAULT}
     */
    static int pageFault(ShadowMmu mmu, VcpuMmu v, long gva, int errorCode, int access) {
        v.counting.inc(MmuCounter.PF_TAKEN);
        GuestWalk w = v.walk;
        boolean walked = GuestWalker.walk(w, v.vcpu, v.guestMemory, gva, access, true, v.pdptrs);
        v.counting.add(MmuCounter.GUEST_WALK_STEPS, v.mode.rootLevel() - w.level + 1);
        if (!walked) {
            v.counting.inc(MmuCounter.PF_GUEST);
            return RET_GUEST_FAULT;
        }
        long gfn = w.gpa >>> 12;
        if (mmu.policy.fastPageTrackPath() && handlePageTrack(mmu, v, errorCode, gfn)) {
            v.counting.add(MmuCounter.SHADOW_WALK_STEPS, clearFlood(mmu, v, v.shadowWalkRoot(gva), v.shadowWalkLevel(), gva)); // lockless
            v.counting.inc(MmuCounter.PF_EMULATE);
            v.counting.inc(MmuCounter.PF_EMULATE_TRACKED);
            return RET_EMULATE;
        }
        // The full path (every fault under the page-track policy but a tracked write; every
        // fault under the legacy one): 4.5's FNAME(page_fault) from here on.
        v.counting.inc(MmuCounter.SELF_CHANGE_CHECKS); // is_self_change_mapping
        if (w.level >= 2) {
            v.counting.inc(MmuCounter.HOST_MAPPING_LEVEL); // mapping_level -> host_mapping_level, for a guest large page
        }
        v.counting.inc(MmuCounter.GFN_TO_PFN); // try_async_pf: memslot lookup, hva, get_user_pages_fast
        Memslot slot = v.platform.gfnToMemslot(gfn);
        ShadowPage top = v.shadowWalkRoot(gva);
        if (slot == null || top == null || !tablesInSlots(v, w)) {
            v.counting.inc(MmuCounter.PF_MMIO); // no memory behind it: emulated, never mapped
            return RET_EMULATE;
        }
        faultInHostPage(slot, gfn);
        boolean nxe = Role.nxe(v.baseRole);
        int acc = Spte.ACC_ALL;
        for (int level = v.mode.rootLevel(); level >= w.level; level--) {
            v.ptAccess[level] = acc; // the rights of the entries above this level
            if (v.mode.hasRights(level)) { // a PAE PDPTE has none
                acc &= Sync.gpteAccess(w.pte[level], nxe);
            }
        }
        int pteAccess = Sync.protectCleanGpte(acc, w.pte[w.level]);
        boolean writeFault = (access & Pfec.WRITE) != 0;
        boolean userFault = (access & Pfec.USER) != 0;
        if (writeFault && (pteAccess & Spte.ACC_WRITE) == 0 && !Role.cr0Wp(v.baseRole) && !userFault) {
            // CR0.WP=0: a supervisor write to a read-only page; map it writable but not user
            // (and not executable under SMEP), as KVM does. Known consequence, as in KVM's rule:
            // with CR4.SMAP set, a later supervisor read of that page with EFLAGS.AC=0 is not
            // stopped by the (now supervisor) spte, where bare metal raises a SMAP fault.
            pteAccess |= Spte.ACC_WRITE;
            pteAccess &= ~Spte.ACC_USER;
            if ((v.baseRole & Role.SMEP_ANDNOT_WP) != 0) {
                pteAccess &= ~Spte.ACC_EXEC;
            }
        }
        int level = Rights.mappingLevel(slot, gfn, w.level);
        long mapGfn = gfn & -(1L << ((level - 1) * 9));
        if (v.afterGuestWalk != null) {
            v.afterGuestWalk.run();
        }
        int fetched;
        v.memoryCache.topup(); // mmu_topup_memory_caches: nothing is allocated under the lock
        Platform.mmuLock(mmu.vm).lock();
        try {
            v.counting.inc(MmuCounter.MMU_LOCK_FAULT);
            v.counting.inc(MmuCounter.FAULT_LOCK_CHECKS); // mmu_notifier_retry, make_mmu_pages_available's test
            mmu.makeMmuPagesAvailable();
            if (top.invalid()) {
                return RET_FIXED; // the root went away: reload and retry
            }
            fetched = fetch(mmu, v, top, gva, w, writeFault, level, pteAccess, mapGfn, gfn, slot);
            if (fetched == FETCH_GPTE_CHANGED) {
                v.gpteChangedRetries++;
                return RET_FIXED; // RET_PF_RETRY: the access faults again and walks the new tables
            }
            v.counting.inc(MmuCounter.PF_FIXED);
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
        if (fetched == FETCH_EMULATE) {
            v.counting.inc(MmuCounter.PF_EMULATE);
            v.counting.inc(MmuCounter.PF_EMULATE_WP);
            return RET_EMULATE;
        }
        return RET_FIXED;
    }

    /**
     * The host side of {@code __gfn_to_pfn_memslot} ({@code get_user_pages_fast}): the host page
     * behind the gfn is made resident here, before the MMU lock and in no vCPU mode, so that the
     * access the fault is for finds it when its walk fills the TLB. Guest memory is host memory
     * once touched ({@code SlotMemory}); were it first touched by that fill, the allocation (and
     * a fresh host page's first-touch latency) would fall inside the lockless walk, which a
     * remote flush waits for, often under the MMU lock. A read-only slot's pages are left as
     * they are (a write there is emulated, never stored).
     */
    static void faultInHostPage(Memslot slot, long gfn) {
        if (!slot.readonly()) {
            Platform.slot(slot).hostPage(gfn);
        }
    }

    /**
     * {@code nonpaging_page_fault} with {@code nonpaging_map} and {@code __direct_map}: the
     * handler of the nonpaging context (CR0.PG clear). The gva, already truncated to 32 bits,
     * is the gpa. A present write fault on a write-tracked gfn is emulated at once
     * ({@code page_fault_handle_page_track}; unlike {@code FNAME(page_fault)} no flood count is
     * cleared: direct pages never flood). Otherwise, under the MMU lock, direct pages are got
     * down from the PAE root's entry to the mapping level and the leaf is set with ACC_ALL; the
     * mapping level is at most 2 (the identity map is a PAE table: 2 MiB pages at most), and
     * only where the slot's frame is not disallowed ({@code mapping_level}). A write fault
     * that ends on a write-protected spte (a gfn that must stay read-only) is emulated. A gfn
     * in no memslot is emulated, never mapped.
     *
     * @return {@link #RET_FIXED} or {@link #RET_EMULATE} (there is no guest fault without paging)
     */
    static int nonpagingPageFault(ShadowMmu mmu, VcpuMmu v, long gva, int errorCode, int access) {
        v.counting.inc(MmuCounter.PF_TAKEN);
        GuestWalk w = v.walk;
        w.gva = gva;
        w.gpa = gva; // nonpaging_gva_to_gpa
        long gfn = gva >>> 12;
        if (mmu.policy.fastPageTrackPath() && handlePageTrack(mmu, v, errorCode, gfn)) {
            v.counting.inc(MmuCounter.PF_EMULATE);
            v.counting.inc(MmuCounter.PF_EMULATE_TRACKED);
            return RET_EMULATE;
        }
        v.counting.inc(MmuCounter.HOST_MAPPING_LEVEL); // nonpaging_map -> mapping_level -> host_mapping_level
        v.counting.inc(MmuCounter.GFN_TO_PFN); // try_async_pf
        Memslot slot = v.platform.gfnToMemslot(gfn);
        ShadowPage top = v.shadowWalkRoot(gva);
        if (slot == null || top == null) {
            v.counting.inc(MmuCounter.PF_MMIO); // no memory behind it: emulated, never mapped
            return RET_EMULATE;
        }
        faultInHostPage(slot, gfn);
        boolean writeFault = (access & Pfec.WRITE) != 0;
        int level = Rights.mappingLevel(slot, gfn, Memslot.LEVEL_2M);
        long mapGfn = gfn & -(1L << ((level - 1) * 9));
        boolean emulate;
        v.memoryCache.topup(); // mmu_topup_memory_caches: nothing is allocated under the lock
        Platform.mmuLock(mmu.vm).lock();
        try {
            v.counting.inc(MmuCounter.MMU_LOCK_FAULT);
            v.counting.inc(MmuCounter.FAULT_LOCK_CHECKS); // mmu_notifier_retry, make_mmu_pages_available's test
            mmu.makeMmuPagesAvailable();
            if (top.invalid()) {
                return RET_FIXED; // the root went away: reload and retry
            }
            emulate = directMap(mmu, v, top, gva, writeFault, level, mapGfn, slot);
            v.counting.inc(MmuCounter.PF_FIXED);
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
        if (emulate) {
            v.counting.inc(MmuCounter.PF_EMULATE);
            v.counting.inc(MmuCounter.PF_EMULATE_WP);
            return RET_EMULATE;
        }
        return RET_FIXED;
    }

    /**
     * {@code __direct_map}: from the PAE root's level-2 page down to {@code hlevel}, a large spte
     * in the way is dropped and a missing table is a direct page (pseudo gfn: the gfn range it
     * maps); then the leaf, ACC_ALL, through {@code mmu_set_spte}.
     *
     * @return true if the write must be emulated
     */
    private static boolean directMap(ShadowMmu mmu, VcpuMmu v, ShadowPage top, long gva, boolean writeFault,
            int hlevel, long mapGfn, Memslot slot) {
        ShadowPage sp = top;
        int level = v.shadowWalkLevel();
        for (; level > hlevel; level--) {
            int idx = index(gva, level);
            v.counting.inc(MmuCounter.SHADOW_WALK_STEPS);
            mmu.dropLargeSpte(sp, idx);
            long spte = sp.spt[idx];
            if (Spte.isPresent(spte)) {
                sp = mmu.page(Spte.childId(spte));
                continue;
            }
            long pseudoGfn = (gva >>> 12) & -(1L << ((level - 1) * 9));
            ShadowPage child = mmu.getPage(v, pseudoGfn, gva, level - 1, true, Spte.ACC_ALL);
            mmu.linkShadowPage(sp, idx, child);
            sp = child;
        }
        v.counting.inc(MmuCounter.SHADOW_WALK_STEPS);
        return SetSpte.mmuSetSpte(mmu, v, v.vcpu, sp, index(gva, level), Spte.ACC_ALL, writeFault, level, mapGfn, slot, true);
    }

    /** KVM's walker fails on a table outside every memslot; such a walk is emulated, never shadowed. */
    private static boolean tablesInSlots(VcpuMmu v, GuestWalk w) {
        for (int level = v.mode.rootLevel(); level > w.level; level--) {
            if (v.platform.gfnToMemslot(tableGfn(w, level - 1)) == null) {
                return false;
            }
        }
        return true;
    }

    /** The gfn of the guest table at {@code level}, named by the entry one level up. */
    static long tableGfn(GuestWalk w, int level) {
        return (w.pte[level + 1] & Pte.bits(12, 51)) >>> 12;
    }

    /** {@link #fetch}: the leaf is set (or the walk found its own path zapped: retry). */
    static final int FETCH_FIXED = 0;
    /** {@link #fetch}: the leaf is set read-only and the write must be emulated. */
    static final int FETCH_EMULATE = 1;
    /** {@link #fetch}: a gpte walked without the lock has changed since: nothing set, retry. */
    static final int FETCH_GPTE_CHANGED = 2;

    /**
     * {@code FNAME(gpte_changed)}: the guest entry of {@code level}, as the lockless guest walk
     * read it, is no longer what guest memory holds. Called with the MMU lock held, after the
     * table holding it is shadowed and so write-protected: from then on any change to it
     * traps, and {@code kvm_mmu_pte_write} (which needs this lock) brings the shadow up to
     * date; a change made before is caught here. A PAE PDPTE comes from the registers loaded
     * at the last CR3 write, not from memory, and is not checked.
     */
    static boolean gpteChanged(ShadowMmu mmu, VcpuMmu v, GuestWalk w, int level) {
        mmu.assertMmuLockHeld();
        if (v.mode == PagingMode.PAE && level == 3) {
            return false;
        }
        return v.guestMemory.read(w.pteGpa[level], v.mode.pteSize()) != w.pte[level];
    }

    /**
     * {@code FNAME(fetch)}: indirect pages for the guest's tables down to the guest's leaf
     * level, then direct pages where a guest large page is mapped with smaller sptes, then the
     * leaf. Every page walked has its flood count cleared. As KVM's, it first re-checks the
     * top gpte, and each gpte below a table once that table is shadowed (write-protected), with
     * {@link #gpteChanged}: the guest walk ran without the lock, and another vCPU may have
     * rewritten an entry since; then nothing is installed and the fault is retried.
     *
     * @return {@link #FETCH_FIXED}, {@link #FETCH_EMULATE} or {@link #FETCH_GPTE_CHANGED}
     */
    private static int fetch(ShadowMmu mmu, VcpuMmu v, ShadowPage top, long gva, GuestWalk w,
            boolean writeFault, int hlevel, int pteAccess, long mapGfn, long gfn, Memslot slot) {
        ShadowPage sp = top;
        int level = v.shadowWalkLevel();
        v.counting.inc(MmuCounter.GPTE_RECHECKS); // FNAME(gpte_changed) of the top level
        if (gpteChanged(mmu, v, w, level)) {
            return FETCH_GPTE_CHANGED;
        }
        for (; level > w.level; level--) {
            int idx = index(gva, level);
            v.counting.inc(MmuCounter.SHADOW_WALK_STEPS);
            v.counting.inc(MmuCounter.GPTE_RECHECKS); // FNAME(gpte_changed) of the level below
            sp.writeFloodingCount = 0;
            mmu.dropLargeSpte(sp, idx);
            long spte = sp.spt[idx];
            boolean present = Spte.isPresent(spte);
            ShadowPage child;
            if (present) {
                child = mmu.page(Spte.childId(spte));
            } else {
                child = mmu.getPage(v, tableGfn(w, level - 1), gva, level - 1, false, v.ptAccess[level - 1]);
                if (sp.invalid()) {
                    return FETCH_FIXED; // get_page's sync zapped our own path: retry from the root
                }
            }
            // The table of level - 1 is shadowed, so write-protected: is its entry still what we walked?
            if (gpteChanged(mmu, v, w, level - 1)) {
                return FETCH_GPTE_CHANGED; // a new child stays unlinked, as KVM leaves it
            }
            if (!present) {
                mmu.linkShadowPage(sp, idx, child);
            }
            sp = child;
        }
        for (; level > hlevel; level--) {
            int idx = index(gva, level);
            v.counting.inc(MmuCounter.SHADOW_WALK_STEPS);
            sp.writeFloodingCount = 0;
            validateDirectSpte(mmu, sp, idx, pteAccess);
            mmu.dropLargeSpte(sp, idx);
            long spte = sp.spt[idx];
            if (Spte.isPresent(spte)) {
                sp = mmu.page(Spte.childId(spte));
                continue;
            }
            long directGfn = gfn & -(1L << ((level - 1) * 9));
            ShadowPage child = mmu.getPage(v, directGfn, gva, level - 1, true, pteAccess);
            mmu.linkShadowPage(sp, idx, child);
            sp = child;
        }
        v.counting.inc(MmuCounter.SHADOW_WALK_STEPS);
        sp.writeFloodingCount = 0;
        return SetSpte.mmuSetSpte(mmu, v, v.vcpu, sp, index(gva, level), pteAccess, writeFault, level, mapGfn, slot, true)
                ? FETCH_EMULATE : FETCH_FIXED;
    }

    /** {@code validate_direct_spte}: a direct child made for other rights is unlinked (remote flush). */
    private static void validateDirectSpte(ShadowMmu mmu, ShadowPage sp, int idx, int directAccess) {
        long spte = sp.spt[idx];
        if (Spte.isPresent(spte) && !Spte.isLarge(spte)) {
            ShadowPage child = mmu.page(Spte.childId(spte));
            if (Role.access(child.role) == directAccess) {
                return;
            }
            mmu.dropParentPte(sp, idx);
            mmu.flushRemoteTlbs();
        }
    }
}
