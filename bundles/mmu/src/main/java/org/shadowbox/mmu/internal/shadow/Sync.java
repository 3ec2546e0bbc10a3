package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Memslot;

/**
 * Bringing unsync pages back in sync with the guest: KVM's {@code kvm_sync_page},
 * {@code FNAME(sync_page)}, {@code mmu_sync_children}, {@code kvm_mmu_sync_roots},
 * {@code kvm_sync_pages} and {@code FNAME(invlpg)}. Caller holds the MMU lock. A 32-bit guest's
 * page is read from the quadrant its role names, 4 bytes per gpte ({@link ShadowPage#gpteGpa}),
 * and gptes are judged by the syncing vCPU's paging mode, as KVM's {@code sync_page} is the
 * mode's own {@code FNAME}.
 *
 * <p>One deliberate difference from 2016: when a sync takes rights away from (or drops) an
 * spte, remote TLBs are flushed at once instead of counting {@code tlbs_dirty} and trusting
 * the guest's own shootdown, so that no vCPU's TLB is ever more permissive than the sptes.
 */
final class Sync {
    private Sync() {
    }

    /** {@code FNAME(gpte_access)}: W and U from the gpte, X unless NX (with EFER.NXE). */
    static int gpteAccess(long gpte, boolean nxe) {
        int acc = (int) (gpte & (Pte.RW | Pte.US)) | Spte.ACC_EXEC;
        if (nxe && (gpte & Pte.NX) != 0) {
            acc &= ~Spte.ACC_EXEC;
        }
        return acc;
    }

    /** {@code FNAME(protect_clean_gpte)}: a clean gpte maps read-only, so a write faults and sets D. */
    static int protectCleanGpte(int access, long gpte) {
        return (gpte & Pte.D) == 0 ? access & ~Spte.ACC_WRITE : access;
    }

    /**
     * {@code FNAME(prefetch_invalid_gpte)}'s test for a level-1 gpte of {@code mode}: reserved
     * bits, not present, or never accessed.
     */
    static boolean invalidGpte(ShadowMmu mmu, PagingMode mode, int role, long gpte) {
        return (gpte & Pte.P) == 0 || (gpte & Pte.A) == 0
                || mode.reservedBitsSet(gpte, 1, true, mmu.vm.maxPhyAddr(), Role.nxe(role)) != 0;
    }

    /**
     * {@code __kvm_sync_page}: a page whose role no longer fits the vCPU is zapped (as later
     * KVM's {@code kvm_sync_page_check}); otherwise its sptes are refreshed from the gptes.
     *
     * @return true if the page was zapped (it is on the invalid list)
     */
    static boolean syncOne(ShadowMmu mmu, VcpuMmu v, ShadowPage sp, boolean clearUnsync) {
        if (((sp.role ^ v.baseRole) & Role.PTE_WRITE_MATCH_MASK) != 0) {
            mmu.prepareZap(sp);
            return true;
        }
        if (clearUnsync) {
            // mmu_sync_children's rmap_write_protect: the guest may no longer write the table directly.
            if (mmu.slotGfnWriteProtect(sp.gfn)) {
                mmu.flushRemoteTlbs();
            }
            mmu.unlinkUnsync(sp);
        }
        if (syncPage(mmu, v, sp)) {
            mmu.prepareZap(sp);
            return true;
        }
        v.requestLocalTlbFlush();
        return false;
    }

    /** {@code kvm_sync_page_transient}: syncs a page found by get_page but leaves it unsync. */
    static boolean syncPageTransient(ShadowMmu mmu, VcpuMmu v, ShadowPage sp) {
        boolean zapped = syncOne(mmu, v, sp, false);
        mmu.commitZap();
        return zapped;
    }

    /**
     * {@code FNAME(sync_page)}: every present spte is re-derived from its gpte; an invalid gpte
     * or one that now names another frame drops the spte; rights follow the gpte. On the
     * vCPU's own thread (a fault's get_page, a root sync before entry, INVLPG): the gptes are
     * read and their slots found through the vCPU's own view ({@code kvm_vcpu_read_guest_atomic},
     * {@code kvm_vcpu_gfn_to_memslot}). {@link #updatePte} keeps the VM's: the pte-write handler
     * that calls it may run on a page-track courier thread.
     *
     * @return true if no spte is left (the page should be zapped)
     */
    static boolean syncPage(ShadowMmu mmu, VcpuMmu v, ShadowPage sp) {
        mmu.stats.inc(MmuCounter.MMU_SYNC_PAGE);
        PagingMode mode = v.mode;
        int size = sp.gpteSize();
        boolean flush = false;
        int present = 0;
        boolean nxe = Role.nxe(sp.role);
        for (int i = 0; i < Spte.ENTRIES; i++) {
            long old = sp.spt[i];
            if (!Spte.isPresent(old)) {
                continue;
            }
            long gpte = v.guestMemory.read(sp.gpteGpa(i), size); // kvm_vcpu_read_guest_atomic
            if (invalidGpte(mmu, mode, sp.role, gpte)) {
                mmu.dropSpte(sp, i);
                flush = true;
                continue;
            }
            long gfn = mode.leafAddress(gpte, 1, 0) >>> 12;
            Memslot slot = v.platform.gfnToMemslot(gfn); // kvm_vcpu_gfn_to_memslot: the vCPU's own lookup
            if (gfn != sp.gfns[i] || slot == null) {
                mmu.dropSpte(sp, i);
                flush = true;
                continue;
            }
            int access = protectCleanGpte(Role.access(sp.role) & gpteAccess(gpte, nxe), gpte);
            present++;
            int r = SetSpte.setSpte(mmu, v.vcpu, sp, i, access, 1, gfn, slot, false); // on the vCPU's thread
            flush |= (r & SetSpte.NEED_FLUSH) != 0;
        }
        if (flush) {
            mmu.flushRemoteTlbs();
        }
        return present == 0;
    }

    /**
     * {@code mmu_sync_children}: syncs every unsync page below {@code parent} by following
     * the unsync-child bitmaps, clearing the bits that lead to nothing unsync any more.
     */
    static void syncChildren(ShadowMmu mmu, VcpuMmu v, ShadowPage parent) {
        if (parent.level() == 1) {
            return;
        }
        for (int i = 0; i < Spte.ENTRIES && parent.unsyncChildren > 0; i++) {
            if (!parent.unsyncChild(i)) {
                continue;
            }
            long spte = parent.spt[i];
            if (!Spte.isPresent(spte) || Spte.isLast(spte, parent.level())) {
                parent.clearUnsyncChild(i);
                continue;
            }
            ShadowPage child = mmu.page(Spte.childId(spte));
            if (child.unsyncChildren > 0) {
                syncChildren(mmu, v, child);
            }
            if (child.unsync) {
                syncOne(mmu, v, child, true); // a zapped child unlinks itself from parent
            }
            if (!child.invalid() && !child.unsync && child.unsyncChildren == 0) {
                parent.clearUnsyncChild(i);
            }
        }
    }

    /** {@code kvm_mmu_sync_roots}: syncs everything unsync below the vCPU's root. */
    static void syncRoots(ShadowMmu mmu, VcpuMmu v, ShadowPage root) {
        if (root.unsyncChildren == 0) {
            return;
        }
        syncChildren(mmu, v, root);
        mmu.commitZap();
    }

    /**
     * {@code kvm_sync_pages}: a page of a higher level now shadows {@code gfn}, so its unsync
     * leaf pages are synced (and stay synced: the gfn is write-tracked from now on).
     */
    static void syncPages(ShadowMmu mmu, VcpuMmu v, long gfn) {
        for (ShadowPage s = mmu.pages.first(gfn); s != null; s = mmu.pages.next(s)) {
            if (s.gfn != gfn || s.direct() || s.invalid() || !s.unsync) {
                continue;
            }
            syncOne(mmu, v, s, true);
        }
        mmu.commitZap();
    }

    /**
     * {@code FNAME(invlpg)}: walks the shadow for {@code gva}; if the leaf is in an unsync page,
     * it is zapped and rebuilt from the current gpte ({@code FNAME(update_pte)}). Descends only
     * while the page has unsync children.
     */
    static void invlpg(ShadowMmu mmu, VcpuMmu v, ShadowPage top, int topLevel, long gva) {
        ShadowPage sp = top;
        for (int level = topLevel; level >= 1; level--) {
            int idx = (int) ((gva >>> (12 + 9 * (level - 1))) & 511);
            long spte = sp.spt[idx];
            if (level == 1 || (Spte.isPresent(spte) && Spte.isLarge(spte))) {
                if (!sp.unsync) {
                    return;
                }
                if (mmu.zapPte(sp, idx)) {
                    mmu.flushRemoteTlbs();
                }
                long gpte = mmu.vm.memory().read(sp.gpteGpa(idx), sp.gpteSize());
                updatePte(mmu, v, sp, idx, gpte);
                return;
            }
            if (!Spte.isPresent(spte) || sp.unsyncChildren == 0) {
                return;
            }
            sp = mmu.page(Spte.childId(spte));
        }
    }

    /** {@code FNAME(update_pte)} / {@code FNAME(prefetch_gpte)}: a speculative spte from a gpte. */
    static void updatePte(ShadowMmu mmu, VcpuMmu v, ShadowPage sp, int idx, long gpte) {
        if (invalidGpte(mmu, v.mode, sp.role, gpte)) {
            return;
        }
        long gfn = v.mode.leafAddress(gpte, 1, 0) >>> 12;
        Memslot slot = mmu.vm.slotForGfn(gfn);
        if (slot == null) {
            return;
        }
        int access = protectCleanGpte(Role.access(sp.role) & gpteAccess(gpte, Role.nxe(sp.role)), gpte);
        SetSpte.mmuSetSpte(mmu, v, null, sp, idx, access, false, 1, gfn, slot, true); // maybe a courier's thread: the VM's lookup
    }
}
