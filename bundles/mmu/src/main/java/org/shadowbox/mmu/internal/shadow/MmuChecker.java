package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

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
 *     right they deny (W also needs the gpte's D); a child page carries the rights of the path
 *     and, for a 32-bit guest, the quadrant of its place. A 32-bit guest's page is read 4 bytes
 *     per gpte from its quadrant, and two level-2 sptes share one guest PDE (the two 2 MiB
 *     halves of a 4 MiB page);
 * <li>reverse maps, parent pointers, unsync bitmaps, root counts, the PAE roots (against CR3
 *     and the loaded PDPTEs; with paging off, the 4 direct pages of the identity map) and the
 *     indirect-page count agree with the tables;
 * <li>no TLB entry of a vCPU that owes no flush (none posted, no root reload pending, its thread
 *     not between taking a flush or changing its root and flushing: {@code checkTlb}) is more
 *     permissive than its current sptes; with paging off every entry maps its gva page to the
 *     same gfn.
 * </ol>
 */
public final class MmuChecker {
    private MmuChecker() {
    }

    /** Every violation found, one line each; empty when the MMU is consistent. */
    public static List<String> check(ShadowMmu mmu) {
        Platform.mmuLock(mmu.vm).lock();
        try {
            return checkLocked(mmu);
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
    }

    /** {@link #check} for a caller that holds the MMU lock already (a test that holds a vCPU at a point). */
    static List<String> checkLocked(ShadowMmu mmu) {
        mmu.assertMmuLockHeld();
        List<String> out = new ArrayList<>();
        long steps = mmu.pages.hashChainSteps;
        try {
            new Run(mmu, out).all();
        } finally {
            mmu.pages.hashChainSteps = steps; // the checker's own walks are not the MMU's work
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
            long[] rmapped = {0};
            mmu.rmap.forEach((gfn, level, sptep) -> {
                rmapped[0]++;
                ShadowPage sp = mmu.pages.get(ShadowPage.sptepPage(sptep));
                int idx = ShadowPage.sptepIndex(sptep);
                if (sp == null || sp.level() != level || !Spte.isPresent(sp.spt[idx])
                        || Rmap.key(sp.gfnAt(idx), level) != Rmap.key(gfn, level)) {
                    out.add("(e) rmap of gfn 0x" + Long.toHexString(gfn) + " level " + level + " names "
                            + ShadowPage.describeSptep(sptep) + ", which does not map it");
                }
            });
            if (rmapped[0] != leafSptes) {
                out.add("(e) the rmap holds " + rmapped[0] + " sptes but the tables hold " + leafSptes + " leaves");
            }
            if (!mmu.policy.tracksShadowedTables()) {
                for (TrackedPage t : mmu.pageTrack.trackedLocked(mmu.vm)) {
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

        /**
         * The guest paging mode a synced page is read in: 32-bit for role.cr4_pae clear; else
         * 64-bit if a vCPU runs in it (its reserved bits are the fewer), else PAE. Also the
         * CR4 (for PSE) of a vCPU in that mode. Null if no vCPU runs in a mode of the page's kind:
         * such a page is not compared.
         */
        private PagingMode guestMode(ShadowPage sp) {
            boolean pae = Role.cr4Pae(sp.role);
            PagingMode found = null;
            for (int v = 0; v < mmu.vcpuCount(); v++) {
                PagingMode m = mmu.vcpu(v).mode;
                if (m != null && m.pae() == pae && (found == null || m == PagingMode.LONG)) {
                    found = m;
                    guestCr4 = mmu.vcpu(v).cr4;
                }
            }
            return found;
        }

        private long guestCr4;

        /** (d): a synced indirect page against the guest table it shadows. */
        private void checkAgainstGuest(ShadowPage sp) {
            PagingMode mode = guestMode(sp);
            if (mode == null) {
                return;
            }
            int role = sp.role;
            boolean nxe = Role.nxe(role) && mode.hasNx();
            int level = sp.level();
            int size = sp.gpteSize();
            for (int i = 0; i < Spte.ENTRIES; i++) {
                long spte = sp.spt[i];
                if (!Spte.isPresent(spte)) {
                    continue;
                }
                long gpte = mmu.vm.memory().read(sp.gpteGpa(i), size);
                boolean gleaf = mode.isLeaf(gpte, level, guestCr4);
                if ((gpte & Pte.P) == 0 || mode.reservedBitsSet(gpte, level, gleaf, mmu.vm.maxPhyAddr(), nxe) != 0) {
                    out.add("(d) " + where(sp, i) + " is present but the gpte 0x" + Long.toHexString(gpte) + " is not valid");
                    continue;
                }
                int allowed = Role.access(role) & Sync.gpteAccess(gpte, nxe);
                long gva = sp.entryGva(i);
                if (Spte.isLast(spte, level)) {
                    long want = gleaf ? (mode.leafAddress(gpte, level, gva) >>> 12) & -(1L << ((level - 1) * 9)) : -1;
                    if (want != sp.gfns[i]) {
                        out.add("(d) " + where(sp, i) + " maps gfn 0x" + Long.toHexString(sp.gfns[i])
                                + " but the gpte is 0x" + Long.toHexString(gpte));
                    }
                    checkRights(sp, i, null, Spte.access(spte), allowed, gpte, role);
                    continue;
                }
                ShadowPage child = mmu.pages.get(Spte.childId(spte));
                if (child == null) {
                    continue; // reported by checkLinks
                }
                int quadrant = Role.cr4Pae(role) ? 0 : Role.quadrantOf(gva, level - 1);
                if (Role.quadrant(child.role) != quadrant) {
                    out.add("(d) " + where(sp, i) + " links " + child + " but its place is quadrant " + quadrant);
                }
                if (gleaf) {
                    long base = (mode.leafAddress(gpte, level, gva) >>> 12) & -(1L << ((level - 1) * 9));
                    if (!child.direct() || child.gfn != base) {
                        out.add("(d) " + where(sp, i) + " links " + child + " but the gpte maps the large page at gfn 0x"
                                + Long.toHexString(base));
                    }
                    checkRights(sp, i, child, Role.access(child.role), allowed, gpte, role);
                } else {
                    long frame = mode.tableAddress(gpte, level) >>> 12;
                    if (child.direct() || child.gfn != frame || Role.access(child.role) != allowed) {
                        out.add("(d) " + where(sp, i) + " links " + child + " but the gpte names table gfn 0x"
                                + Long.toHexString(frame) + " with rights " + Spte.describeAccess(allowed));
                    }
                }
            }
        }

        /** Rights granted within the guest's; W also needs D; CR0.WP=0 lets a non-user spte be writable. */
        private void checkRights(ShadowPage sp, int i, ShadowPage child, int granted, int allowed, long gpte,
                int role) {
            int extra = granted & ~allowed;
            if (extra == Spte.ACC_WRITE && !Role.cr0Wp(role) && (granted & Spte.ACC_USER) == 0) {
                extra = 0; // a supervisor write under CR0.WP=0
            }
            String where = extra != 0 || (granted & Spte.ACC_WRITE) != 0 && (gpte & Pte.D) == 0
                    ? where(sp, i) + (child == null ? "" : " -> " + child) : null;
            if (extra != 0) {
                out.add("(d) " + where + " grants " + Spte.describeAccess(granted) + " beyond the guest's "
                        + Spte.describeAccess(allowed));
            }
            if ((granted & Spte.ACC_WRITE) != 0 && (gpte & Pte.D) == 0) {
                out.add("(d) " + where + " is writable but the gpte 0x" + Long.toHexString(gpte) + " is clean");
            }
        }

        private static String tlbEntry(VcpuMmu v, long vpn) {
            return "(f) vCPU " + v.vcpu.id() + " TLB entry for gva 0x" + Long.toHexString(vpn << 12);
        }

        /** "sp3[17] of sp3 gfn 0x... (role)": built only for a report. */
        private static String where(ShadowPage sp, int i) {
            return ShadowPage.describeSptep(ShadowPage.sptep(sp.id, i)) + " of " + sp;
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
            for (int v = 0; v < mmu.vcpuCount(); v++) {
                checkPaeRoot(mmu.vcpu(v));
            }
        }

        /**
         * (e) The PAE root of a PAE or 32-bit vCPU against what {@code mmu_alloc_shadow_roots}
         * makes of its CR3 and loaded PDPTEs: entry i is the level-2 page of the directory (32-bit:
         * CR3's, quadrant i; PAE: PDPTE i's, quadrant 0), or null for a not-present or bad PDPTE or
         * a table in no memslot. A zapped entry may wait, invalid, for the vCPU's reload.
         */
        private void checkPaeRoot(VcpuMmu v) {
            PagingMode mode = v.mode;
            if (v.nonpaging() && v.rootLoaded()) {
                checkDirectRoot(v);
                return;
            }
            if (mode == null || mode == PagingMode.LONG || !v.rootLoaded()) {
                for (int i = 0; i < 4; i++) {
                    if (v.paeRoot[i] != null) {
                        out.add("(e) vCPU " + v.vcpu.id() + " is not in PAE or 32-bit paging but holds PAE root entry "
                                + i + ": " + v.paeRoot[i]);
                    }
                }
                return;
            }
            for (int i = 0; i < 4; i++) {
                ShadowPage sp = v.paeRoot[i];
                long gfn = -1;
                if (mode == PagingMode.BITS32) {
                    gfn = mode.rootTable(v.rootCr3()) >>> 12;
                } else if ((v.pdptrs[i] & Pte.P) != 0
                        && mode.reservedBitsSet(v.pdptrs[i], 3, false, mmu.vm.maxPhyAddr(), false) == 0) {
                    gfn = mode.tableAddress(v.pdptrs[i], 3) >>> 12;
                }
                if (gfn >= 0 && mmu.vm.slotForGfn(gfn) == null) {
                    gfn = -1;
                }
                String entry = "(e) vCPU " + v.vcpu.id() + " PAE root entry " + i;
                if (sp == null) {
                    if (gfn >= 0) {
                        out.add(entry + " is empty but should shadow table gfn 0x" + Long.toHexString(gfn));
                    }
                } else if (sp.invalid()) {
                    continue;
                } else if (gfn < 0 || sp.gfn != gfn || sp.level() != 2 || sp.direct()
                        || Role.quadrant(sp.role) != (mode == PagingMode.BITS32 ? i : 0)
                        || Role.access(sp.role) != Spte.ACC_ALL) {
                    out.add(entry + " is " + sp + " but should be " + (gfn < 0 ? "empty"
                            : "the level-2 page of gfn 0x" + Long.toHexString(gfn)
                                    + (mode == PagingMode.BITS32 ? " quadrant " + i : "")));
                }
            }
        }

        /**
         * (e) The PAE root of a vCPU with paging off against {@code mmu_alloc_direct_roots}: entry
         * i is the direct level-2 page, ACC_ALL, quadrant 0, of pseudo gfn {@code i << 18} (the
         * identity map of gva bits 31:30 = i). A zapped entry may wait, invalid, for the reload.
         */
        private void checkDirectRoot(VcpuMmu v) {
            if (v.root != null) {
                out.add("(e) vCPU " + v.vcpu.id() + " has paging off but holds a 4-level root: " + v.root);
            }
            for (int i = 0; i < 4; i++) {
                ShadowPage sp = v.paeRoot[i];
                long gfn = (long) i << 18;
                if (sp != null && sp.invalid()) {
                    continue;
                }
                if (sp == null || sp.gfn != gfn || sp.level() != 2 || !sp.direct() || Role.quadrant(sp.role) != 0
                        || Role.access(sp.role) != Spte.ACC_ALL) {
                    out.add("(e) vCPU " + v.vcpu.id() + " PAE root entry " + i + " is " + sp
                            + " but paging is off: should be the direct level-2 page of gfn 0x" + Long.toHexString(gfn));
                }
            }
        }

        /**
         * (f): every TLB entry of a vCPU that owes its TLB no flush, against a walk of its sptes
         * now. A vCPU owes a flush, and is skipped (inconclusive: the next check looks again),
         * <ul>
         * <li>while a flush request is posted to it ({@code KVM_REQ_TLB_FLUSH});
         * <li>while a root of it is zapped: a pending reload ({@code KVM_REQ_MMU_RELOAD}), which
         *     flushes before the next access;
         * <li>while its own thread acts on a flush without the MMU lock, which the checker holds:
         *     from before it takes the request (the bit is clear, the TLB not yet empty) or
         *     changes its root or paging context (the new root is in place under the lock, the
         *     flush comes after unlocking) until the flush is done. Its TLB's sequence count is odd
         *     then ({@link Tlb#beginFlushWindow}); KVM's vCPU does the same steps, and uses no
         *     translation between them.
         * </ul>
         * The TLB is read as a seqlock's reader: the count first, then the request word, the roots
         * and the entries, then the count again; if it moved (a fill, or a flush window that began
         * meanwhile) what was read is dropped. A request taken after the first read is seen
         * either as still posted or, the take being inside a window whose odd store comes first,
         * through a count that moved.
         */
        private void checkTlb(VcpuMmu v) {
            long seq = v.tlb.sequence();
            if ((seq & 1) != 0 || v.tlbFlushPending() || v.rootInvalid()) {
                return;
            }
            int before = out.size();
            checkTlbEntries(v);
            java.lang.invoke.VarHandle.acquireFence();
            if (v.tlb.sequence() != seq) {
                out.subList(before, out.size()).clear();
            }
        }

        private void checkTlbEntries(VcpuMmu v) {
            Tlb tlb = v.tlb;
            for (int i = 0; i < tlb.size(); i++) {
                long vpn = tlb.vpn(i);
                if (vpn < 0) {
                    continue;
                }
                if (v.nonpaging() && tlb.gfn(i) != vpn) {
                    out.add(tlbEntry(v, vpn) + " maps gfn 0x" + Long.toHexString(tlb.gfn(i))
                            + " but paging is off: the gva is the gpa");
                }
                ShadowPage sp = v.shadowWalkRoot(vpn << 12);
                if (sp != null && sp.invalid() || sp == null && v.mode == PagingMode.LONG) {
                    out.add(tlbEntry(v, vpn) + " survives without a valid root");
                    continue;
                }
                int rights = Spte.ACC_ALL;
                long pfn = -1;
                for (int level = v.shadowWalkLevel(); sp != null; level--) {
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
                    out.add(tlbEntry(v, vpn) + " is stale: the sptes no longer map it");
                } else if (pfn != tlb.pfn(i)) {
                    out.add(tlbEntry(v, vpn) + " is stale: it names pfn 0x" + Long.toHexString(tlb.pfn(i)) + ", the sptes 0x"
                            + Long.toHexString(pfn));
                } else if ((tlb.access(i) & ~rights) != 0) {
                    out.add(tlbEntry(v, vpn) + " is stale: it grants " + Spte.describeAccess(tlb.access(i)) + ", the sptes only "
                            + Spte.describeAccess(rights));
                }
            }
        }
    }
}
