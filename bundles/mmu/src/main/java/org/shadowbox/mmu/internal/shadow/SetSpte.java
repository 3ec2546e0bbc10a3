package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vcpu;

/**
 * Making a leaf spte: KVM's {@code set_spte} and {@code mmu_set_spte}. A large spte is never
 * installed writable over a frame whose disallow count is non-zero; a gfn that must stay
 * write-protected ({@link ShadowMmu#needWriteProtect}) gets a read-only spte, and a write
 * fault that ends there becomes an emulation. Caller holds the MMU lock.
 */
final class SetSpte {
    /** set_spte's result: the spte was made read-only because of write protection. */
    static final int WRITE_PROTECTED = 1;
    /** set_spte's result: an spte of the vCPUs lost rights or changed frame; remote TLBs must flush. */
    static final int NEED_FLUSH = 2;
    /** set_spte's result: nothing installed (a large spte over a disallowed frame). */
    static final int NOT_INSTALLED = 4;

    private SetSpte() {
    }

    /**
     * {@code set_spte}: builds the spte for {@code gfn} with {@code pteAccess} (ACC_*) at
     * {@code level} in entry {@code index} of {@code sp}. {@code vcpu}: whose own memslot lookup
     * {@code mmu_need_write_protect} uses, on its thread (the fault path, {@code sync_page}), or
     * null for the VM's ({@code update_pte}, which a pte write may run on a courier thread).
     */
    static int setSpte(ShadowMmu mmu, Vcpu vcpu, ShadowPage sp, int index, int pteAccess, int level, long gfn,
            Memslot slot, boolean canUnsync) {
        int ret = 0;
        long spte = Spte.PRESENT | Spte.ACCESSED;
        boolean hostWritable = !slot.readonly();
        if ((pteAccess & Spte.ACC_EXEC) == 0) {
            spte |= Spte.NX;
        }
        if ((pteAccess & Spte.ACC_USER) != 0) {
            spte |= Spte.USER;
        }
        if (level > 1) {
            spte |= Spte.LARGE;
        }
        if (hostWritable) {
            spte |= Spte.HOST_WRITEABLE;
        } else {
            pteAccess &= ~Spte.ACC_WRITE;
        }
        spte |= slot.hostFrame(gfn) << 12;
        if ((pteAccess & Spte.ACC_WRITE) != 0) {
            // Another vCPU may have shadowed the gfn since mapping_level(): let the guest retry.
            if (level > 1 && slot.lpageDisallowCount(gfn, level) != 0) { // mmu_gfn_lpage_is_disallowed
                return NOT_INSTALLED;
            }
            spte |= Spte.WRITABLE | Spte.MMU_WRITEABLE;
            if (mmu.needWriteProtect(vcpu, gfn, canUnsync)) {
                ret |= WRITE_PROTECTED;
                pteAccess &= ~Spte.ACC_WRITE;
                spte &= ~(Spte.WRITABLE | Spte.MMU_WRITEABLE);
            }
        }
        if ((pteAccess & Spte.ACC_WRITE) != 0) {
            spte |= Spte.DIRTY; // kvm_vcpu_mark_page_dirty
        }
        long old = sp.spt[index];
        sp.setSpte(index, spte);
        if (lostRights(old, spte)) {
            ret |= NEED_FLUSH; // mmu_spte_update() returned true
        }
        return ret;
    }

    /** True if {@code old} was present and {@code now} grants less or maps another frame. */
    static boolean lostRights(long old, long now) {
        if (!Spte.isPresent(old)) {
            return false;
        }
        if (!Spte.isPresent(now) || Spte.pfn(old) != Spte.pfn(now)) {
            return true;
        }
        return (Spte.access(old) & ~Spte.access(now)) != 0;
    }

    /**
     * {@code mmu_set_spte}: replaces a table or a leaf of another frame (with a remote flush),
     * sets the spte, adds it to the rmap if it is new there, and records the gfn.
     *
     * @return true if the faulting write must be emulated
     */
    static boolean mmuSetSpte(ShadowMmu mmu, VcpuMmu v, Vcpu vcpu, ShadowPage sp, int index, int pteAccess,
            boolean writeFault, int level, long gfn, Memslot slot, boolean canUnsync) {
        long old = sp.spt[index];
        boolean wasRmapped = false;
        if (Spte.isPresent(old)) {
            if (level > 1 && !Spte.isLarge(old)) {
                mmu.dropParentPte(sp, index); // a large page replaces a table
                mmu.flushRemoteTlbs();
            } else if (Spte.pfn(old) != slot.hostFrame(gfn)) {
                mmu.dropSpte(sp, index);
                mmu.flushRemoteTlbs();
            } else {
                wasRmapped = true;
            }
        }
        if (!wasRmapped && sp.gfns != null) {
            // kvm_mmu_page_set_gfn before the spte, not after as in rmap_add: the processor
            // model reads the gfn of a leaf it finds (the host page comes from it), so a
            // lockless walker must never see a new spte beside an old gfn.
            sp.setGfn(index, gfn);
        }
        int r = setSpte(mmu, vcpu, sp, index, pteAccess, level, gfn, slot, canUnsync);
        if ((r & NEED_FLUSH) != 0) {
            mmu.flushRemoteTlbs();
        }
        boolean emulate = false;
        if ((r & WRITE_PROTECTED) != 0) {
            if (writeFault) {
                emulate = true;
            }
            v.requestLocalTlbFlush();
        }
        if (!wasRmapped && Spte.isPresent(sp.spt[index])) {
            mmu.rmap.add(gfn, level, ShadowPage.sptep(sp.id, index));
        }
        return emulate;
    }
}
