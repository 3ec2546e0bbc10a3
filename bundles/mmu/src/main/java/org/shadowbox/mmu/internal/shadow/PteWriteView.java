package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.spi.PteWriteContext;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;

/**
 * {@link PteWriteContext} for one vCPU of one shadow MMU: the operations
 * {@code kvm_mmu_pte_write} uses, by shadow page id. One instance per vCPU, reused for every
 * call; used only with the MMU lock held.
 */
final class PteWriteView implements PteWriteContext {
    private final ShadowMmu mmu;
    private final VcpuMmu v;

    PteWriteView(ShadowMmu mmu, VcpuMmu v) {
        this.mmu = mmu;
        this.v = v;
    }

    private ShadowPage sp(int id) {
        ShadowPage sp = mmu.page(id);
        if (sp == null) {
            throw new IllegalArgumentException("no shadow page " + id + " in VM " + mmu.vm.name());
        }
        return sp;
    }

    @Override
    public Vm vm() {
        return mmu.vm;
    }

    @Override
    public int vcpuId() {
        return v.vcpu.id();
    }

    @Override
    public boolean vcpuPae() {
        return (v.vcpu.get(Register.CR4) & Register.CR4_PAE) != 0;
    }

    @Override
    public long vcpuFaultsNotEmulated() {
        return v.count(MmuCounter.PF_FIXED) + v.count(MmuCounter.PF_GUEST);
    }

    @Override
    public int indirectShadowPages() {
        return mmu.indirectShadowPages;
    }

    @Override
    public int firstIndirectPage(long gfn) {
        return indirectFrom(mmu.pages.first(gfn), gfn);
    }

    @Override
    public int nextIndirectPage(int id) {
        ShadowPage sp = sp(id);
        return indirectFrom(mmu.pages.next(sp), sp.gfn);
    }

    /** {@code for_each_gfn_indirect_valid_sp}: skips other gfns of the bucket, direct and invalid pages. */
    private int indirectFrom(ShadowPage sp, long gfn) {
        for (; sp != null; sp = mmu.pages.next(sp)) {
            if (sp.gfn == gfn && !sp.direct() && !sp.invalid()) {
                return sp.id;
            }
        }
        return 0;
    }

    @Override
    public int level(int sp) {
        return sp(sp).level();
    }

    @Override
    public boolean cr4Pae(int sp) {
        return Role.cr4Pae(sp(sp).role);
    }

    @Override
    public int quadrant(int sp) {
        return Role.quadrant(sp(sp).role);
    }

    @Override
    public boolean direct(int sp) {
        return sp(sp).direct();
    }

    @Override
    public boolean roleMatchesVcpu(int sp) {
        return ((sp(sp).role ^ v.baseRole) & Role.PTE_WRITE_MATCH_MASK) == 0;
    }

    @Override
    public int writeFloodingCount(int sp) {
        return sp(sp).writeFloodingCount;
    }

    @Override
    public int incrementWriteFloodingCount(int sp) {
        return ++sp(sp).writeFloodingCount;
    }

    @Override
    public void clearWriteFloodingCount(int sp) {
        sp(sp).writeFloodingCount = 0;
    }

    @Override
    public boolean prepareZap(int sp) {
        return mmu.prepareZap(sp(sp)) > 0;
    }

    @Override
    public void commitZap() {
        mmu.commitZap();
    }

    @Override
    public long spte(int sp, int index) {
        return sp(sp).spt[index];
    }

    @Override
    public boolean zapPte(int sp, int index) {
        return mmu.zapPte(sp(sp), index);
    }

    @Override
    public void updatePte(int sp, int index, long gpte) {
        ShadowPage p = sp(sp);
        if (p.level() != 1) {
            throw new IllegalArgumentException("update_pte on " + p + ": only level-1 entries are built from a gpte");
        }
        if (v.nonpaging) {
            return; // nonpaging_update_pte: a writer with paging off has no gpte format; the spte stays zapped
        }
        Sync.updatePte(mmu, v, p, index, gpte);
    }

    @Override
    public boolean needRemoteFlush(long old, long now) {
        return SetSpte.lostRights(old, now);
    }

    @Override
    public void flushRemoteTlbs() {
        mmu.flushRemoteTlbs();
    }

    @Override
    public void flushLocalTlb() {
        v.requestLocalTlbFlush();
    }

    @Override
    public long readGuest(long gpa, int bytes) {
        return mmu.vm.memory().read(gpa, bytes);
    }
}
