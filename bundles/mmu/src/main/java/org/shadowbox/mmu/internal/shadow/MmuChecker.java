package org.shadowbox.mmu.internal.shadow;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Memslot;

/**
 * The shadow MMU's invariants as code (issue 3, section 5), checked under the MMU lock:
 * <ol type="a">
 * <li>no writable spte maps a write-tracked gfn, nor the gfn of a synced indirect shadow page;
 * <li>under the pagetrack policy, every gfn shadowed by a valid indirect non-leaf page is
 *     write-tracked; under the legacy policy, the MMU holds no page-track count at all;
 * <li>no writable large spte covers a frame with a non-zero disallow count (KVM write-protects,
 *     rather than drops, the large sptes over a frame that becomes disallowed);
 * <li>every present spte of a synced page maps the frame the guest tables name and grants no
 *     right they deny (W also needs the gpte's D); a child page carries the rights of the path;
 * <li>reverse maps, parent pointers, unsync bitmaps, root counts and the indirect-page count
 *     agree with the tables;
 * <li>no TLB entry of a vCPU with no flush pending is more permissive than its current sptes.
 * </ol>
 */
public final class MmuChecker {
    private MmuChecker() {
    }

    /** Every violation found, one line each; empty when the MMU is consistent. */
    public static List<String> check(ShadowMmu mmu) {
        List<String> out = new ArrayList<>();
        mmu.vm.mmuLock().lock();
        long steps = mmu.pages.hashChainSteps;
        try {
            new Run(mmu, out).all();
        } finally {
            mmu.pages.hashChainSteps = steps; // the checker's own walks are not the MMU's work
            mmu.vm.mmuLock().unlock();
        }
        return out;
    }

    private static final class Run {
        private final ShadowMmu mmu;
        private final List<String> out;
        private long leafSptes;

        Run(ShadowMmu mmu, List<String> out) {
            this.mmu = mmu;
            this.out = out;
        }

        void all() {
            int indirect = 0;
            for (ShadowPage sp = mmu.pages.newest(); sp != null; sp = mmu.pages.older(sp)) {
                if (sp.invalid()) {
                    checkInvalid(sp);
                    continue;
                }
                if (!sp.direct()) {
                    indirect++;
                    if (mmu.policy.tracksShadowedTables() && sp.level() > 1
                            && !mmu.pageTrack.isActive(mmu.vm, sp.gfn, TrackMode.WRITE)) {
                        out.add("(b) " + sp + " shadows a non-leaf table whose gfn is not write-tracked");
                    }
                }
                checkLinks(sp);
                for (int i = 0; i < Spte.ENTRIES; i++) {
                    long spte = sp.spt[i];
                    if (Spte.isPresent(spte) && Spte.isLast(spte, sp.level())) {
                        checkLeaf(sp, i, spte);
                    }
                }
                if (!sp.direct() && !sp.unsync) {
                    checkAgainstGuest(sp);
                }
            }
            if (indirect != mmu.indirectShadowPages) {
                out.add("(e) indirect_shadow_pages is " + mmu.indirectShadowPages + " but " + indirect + " pages are indirect");
            }
            if (mmu.rmap.total() != leafSptes) {
                out.add("(e) the rmap holds " + mmu.rmap.total() + " sptes but the tables hold " + leafSptes + " leaves");
            }
            mmu.rmap.forEach((gfn, level, sptep) -> {
                ShadowPage sp = mmu.pages.get(ShadowPage.sptepPage(sptep));
                int idx = ShadowPage.sptepIndex(sptep);
                if (sp == null || sp.level() != level || !Spte.isPresent(sp.spt[idx])
                        || Rmap.key(sp.gfnAt(idx), level) != Rmap.key(gfn, level)) {
                    out.add("(e) rmap of gfn 0x" + Long.toHexString(gfn) + " level " + level + " names "
                            + ShadowPage.describeSptep(sptep) + ", which does not map it");
                }
            });
            if (!mmu.policy.tracksShadowedTables()) {
                for (TrackedPage t : mmu.pageTrack.tracked(mmu.vm)) {
                    if (t.owners().containsKey(mmu.pageTrack.owner())) {
                        out.add("(b) under the legacy policy the MMU holds " + t.owners().get(mmu.pageTrack.owner())
                                + " page-track count(s) of gfn 0x" + Long.toHexString(t.gfn()));
                    }
                }
            }
            checkRoots();
            for (int v = 0; v < mmu.vcpuCount(); v++) {
                checkTlb(mmu.vcpu(v));
            }
        }

        private void checkInvalid(ShadowPage sp) {
            if (sp.rootCount == 0) {
                out.add("(e) " + sp + " is invalid, held by no root, yet still listed");
            }
            if (sp.parentCount != 0) {
                out.add("(e) " + sp + " is invalid but still linked from " + sp.parentCount + " sptes");
            }
            for (int i = 0; i < Spte.ENTRIES; i++) {
                if (sp.spt[i] != 0) {
                    out.add("(e) " + sp + " is invalid but entry " + i + " is " + Spte.describe(sp.spt[i]));
                    return;
                }
            }
        }

        private void checkLeaf(ShadowPage sp, int i, long spte) {
            leafSptes++;
            long gfn = sp.gfnAt(i);
            long sptep = ShadowPage.sptep(sp.id, i);
            if (!mmu.rmap.contains(gfn, sp.level(), sptep)) {
                out.add("(e) " + ShadowPage.describeSptep(sptep) + " maps gfn 0x" + Long.toHexString(gfn)
                        + " but is not in its rmap");
            }
            Memslot slot = mmu.vm.slotForGfn(gfn);
            if (slot == null || slot.hostFrame(gfn) != Spte.pfn(spte)) {
                out.add("(d) " + ShadowPage.describeSptep(sptep) + " of " + sp + " maps pfn 0x"
                        + Long.toHexString(Spte.pfn(spte)) + ", not the frame of gfn 0x" + Long.toHexString(gfn));
                return;
            }
            if (!Spte.isWritable(spte)) {
                return;
            }
            if (sp.level() == 1) {
                if (mmu.pageTrack.isActive(mmu.vm, gfn, TrackMode.WRITE)) {
                    out.add("(a) writable " + ShadowPage.describeSptep(sptep) + " maps write-tracked gfn 0x"
                            + Long.toHexString(gfn));
                }
                for (ShadowPage s = mmu.pages.first(gfn); s != null; s = mmu.pages.next(s)) {
                    if (s.gfn == gfn && !s.direct() && !s.invalid() && !s.unsync) {
                        out.add("(a) writable " + ShadowPage.describeSptep(sptep) + " maps gfn 0x"
                                + Long.toHexString(gfn) + ", which synced " + s + " shadows");
                    }
                }
            } else if (slot.lpageDisallowCount(gfn, sp.level()) != 0) {
                out.add("(c) writable large " + ShadowPage.describeSptep(sptep) + " covers gfn 0x"
                        + Long.toHexString(gfn) + " whose level-" + sp.level() + " disallow count is "
                        + slot.lpageDisallowCount(gfn, sp.level()));
            }
        }

        /** Parent pointers and unsync bitmaps of {@code sp}. */
        private void checkLinks(ShadowPage sp) {
            for (int p = 0; p < sp.parentCount; p++) {
                long sptep = sp.parentPtes[p];
                ShadowPage parent = mmu.pages.get(ShadowPage.sptepPage(sptep));
                int idx = ShadowPage.sptepIndex(sptep);
                if (parent == null || parent.spt[idx] != Spte.makeNonLeaf(sp.id)) {
                    out.add("(e) " + sp + " names parent " + ShadowPage.describeSptep(sptep) + ", which does not link it");
                } else if ((sp.unsync || sp.unsyncChildren > 0) && !parent.unsyncChild(idx)) {
                    out.add("(e) " + sp + " has unsync state but parent " + ShadowPage.describeSptep(sptep)
                            + " lacks its unsync-child bit");
                }
            }
            int bits = 0;
            for (long w : sp.unsyncChildBitmap) {
                bits += Long.bitCount(w);
            }
            if (bits != sp.unsyncChildren) {
                out.add("(e) " + sp + " counts " + sp.unsyncChildren + " unsync children but has " + bits + " bits set");
            }
            if (sp.unsync && (sp.level() != 1 || sp.direct())) {
                out.add("(e) " + sp + " is unsync but only indirect level-1 pages may be");
            }
            for (int i = 0; i < Spte.ENTRIES; i++) {
                long spte = sp.spt[i];
                if (Spte.isPresent(spte) && !Spte.isLast(spte, sp.level())) {
                    ShadowPage child = mmu.pages.get(Spte.childId(spte));
                    if (child == null || child.invalid() || child.level() != sp.level() - 1
                            || !child.hasParent(ShadowPage.sptep(sp.id, i))) {
                        out.add("(e) " + ShadowPage.describeSptep(ShadowPage.sptep(sp.id, i)) + " links "
                                + (child == null ? "no page" : child.toString()) + ", which does not name it as parent");
                    }
                }
            }
        }

        /** (d): a synced indirect page against the guest table it shadows. */
        private void checkAgainstGuest(ShadowPage sp) {
            int role = sp.role;
            boolean nxe = Role.nxe(role);
            int level = sp.level();
            for (int i = 0; i < Spte.ENTRIES; i++) {
                long spte = sp.spt[i];
                if (!Spte.isPresent(spte)) {
                    continue;
                }
                String where = ShadowPage.describeSptep(ShadowPage.sptep(sp.id, i)) + " of " + sp;
                long gpte = mmu.vm.memory().read((sp.gfn << 12) + 8L * i, 8);
                boolean gleaf = PagingMode.LONG.isLeaf(gpte, level, 0);
                if ((gpte & Pte.P) == 0
                        || PagingMode.LONG.reservedBitsSet(gpte, level, gleaf, mmu.vm.maxPhyAddr(), nxe) != 0) {
                    out.add("(d) " + where + " is present but the gpte 0x" + Long.toHexString(gpte) + " is not valid");
                    continue;
                }
                int allowed = Role.access(role) & Sync.gpteAccess(gpte, nxe);
                long frame = (gpte & Pte.bits(12, 51)) >>> 12;
                if (Spte.isLast(spte, level)) {
                    if (!gleaf || sp.gfns[i] != (frame & -(1L << ((level - 1) * 9)))) {
                        out.add("(d) " + where + " maps gfn 0x" + Long.toHexString(sp.gfns[i])
                                + " but the gpte is 0x" + Long.toHexString(gpte));
                    }
                    checkRights(where, Spte.access(spte), allowed, gpte, role);
                    continue;
                }
                ShadowPage child = mmu.pages.get(Spte.childId(spte));
                if (child == null) {
                    continue; // reported by checkLinks
                }
                if (gleaf) {
                    long base = frame & -(1L << ((level - 1) * 9));
                    if (!child.direct() || child.gfn != base) {
                        out.add("(d) " + where + " links " + child + " but the gpte maps the large page at gfn 0x"
                                + Long.toHexString(base));
                    }
                    checkRights(where + " -> " + child, Role.access(child.role), allowed, gpte, role);
                } else if (child.direct() || child.gfn != frame || Role.access(child.role) != allowed) {
                    out.add("(d) " + where + " links " + child + " but the gpte names table gfn 0x"
                            + Long.toHexString(frame) + " with rights " + Spte.describeAccess(allowed));
                }
            }
        }

        /** Rights granted within the guest's; W also needs D; CR0.WP=0 lets a non-user spte be writable. */
        private void checkRights(String where, int granted, int allowed, long gpte, int role) {
            int extra = granted & ~allowed;
            if (extra == Spte.ACC_WRITE && !Role.cr0Wp(role) && (granted & Spte.ACC_USER) == 0) {
                extra = 0; // a supervisor write under CR0.WP=0
            }
            if (extra != 0) {
                out.add("(d) " + where + " grants " + Spte.describeAccess(granted) + " beyond the guest's "
                        + Spte.describeAccess(allowed));
            }
            if ((granted & Spte.ACC_WRITE) != 0 && (gpte & Pte.D) == 0) {
                out.add("(d) " + where + " is writable but the gpte 0x" + Long.toHexString(gpte) + " is clean");
            }
        }

        private void checkRoots() {
            for (ShadowPage sp = mmu.pages.newest(); sp != null; sp = mmu.pages.older(sp)) {
                int held = 0;
                for (int v = 0; v < mmu.vcpuCount(); v++) {
                    VcpuMmu vc = mmu.vcpu(v);
                    ShadowPage[] roots = new ShadowPage[vc.maxHeldRoots()];
                    int n = vc.heldRoots(roots);
                    for (int k = 0; k < n; k++) {
                        if (roots[k] == sp) {
                            held++;
                        }
                    }
                }
                if (held != sp.rootCount) {
                    out.add("(e) " + sp + " has root_count " + sp.rootCount + " but " + held + " vCPU roots hold it");
                }
            }
        }

        /** (f): every TLB entry of a vCPU with no flush pending against a walk of its sptes now. */
        private void checkTlb(VcpuMmu v) {
            if (v.tlbFlushPending()) {
                return;
            }
            Tlb tlb = v.tlb;
            for (int i = 0; i < tlb.size(); i++) {
                long vpn = tlb.vpn(i);
                if (vpn < 0) {
                    continue;
                }
                String entry = "(f) vCPU " + v.vcpu.id() + " TLB entry for gva 0x" + Long.toHexString(vpn << 12);
                ShadowPage sp = v.root;
                if (sp == null || sp.invalid()) {
                    out.add(entry + " survives without a valid root");
                    continue;
                }
                int rights = Spte.ACC_ALL;
                long pfn = -1;
                for (int level = 4; sp != null; level--) {
                    long spte = sp.spt[PageFault.index(vpn << 12, level)];
                    if (!Spte.isPresent(spte)) {
                        break;
                    }
                    rights &= Spte.access(spte);
                    if (Spte.isLast(spte, level)) {
                        pfn = Spte.pfn(spte) + (vpn & ((1L << ((level - 1) * 9)) - 1));
                        break;
                    }
                    sp = mmu.pages.get(Spte.childId(spte));
                }
                if (pfn < 0) {
                    out.add(entry + " is stale: the sptes no longer map it");
                } else if (pfn != tlb.pfn(i)) {
                    out.add(entry + " is stale: it names pfn 0x" + Long.toHexString(tlb.pfn(i)) + ", the sptes 0x"
                            + Long.toHexString(pfn));
                } else if ((tlb.access(i) & ~rights) != 0) {
                    out.add(entry + " is stale: it grants " + Spte.describeAccess(tlb.access(i)) + ", the sptes only "
                            + Spte.describeAccess(rights));
                }
            }
        }
    }
}
