package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.vm.spi.Platform;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.GuestWalker;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.spi.GfnTrack;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;

/**
 * The TDP MMU's invariants as code, checked under the MMU lock:
 * <ol type="a">
 * <li>no writable TDP leaf maps a write-tracked gfn;
 * <li>no guest table is shadowed under TDP, so nothing for the MMU to track; under
 *     {@code policy=legacy} (the pre-series fault path, which never asks page track) no gfn
 *     is write-tracked at all, as page track refuses external tracks there: otherwise (a)
 *     would hold only by luck;
 * <li>no writable large TDP leaf covers a frame with a non-zero disallow count (a frame that
 *     becomes disallowed keeps its large leaf write-protected until the next fault, as KVM
 *     does), and every large leaf lies whole in one slot;
 * <li>every TDP leaf maps its gpa to the slot's host frame, and none is writable in a
 *     read-only slot;
 * <li>tables link children of the level below and of the right gpa range, each reachable
 *     once; the large-leaf count agrees;
 * <li>no TLB entry of a vCPU with no flush (or paging-control change) pending, nor one under way
 *     on its thread ({@code tlb}), survives a guest flush (CR3 load, INVLPG,
 *     paging-mode change) or is more permissive than the TDP table now; and while the guest
 *     entries it was filled from are unchanged, it is no more permissive than the guest's
 *     walk now (a changed guest entry is the guest's to flush).
 * </ol>
 */
public final class TdpChecker {
    private TdpChecker() {
    }

    /** Every violation found, one line each; empty when the TDP MMU is consistent. */
    public static List<String> check(TdpMmu mmu) {
        List<String> out = new ArrayList<>();
        Platform.mmuLock(mmu.vm).lock();
        try {
            Run run = new Run(mmu, out);
            run.table(mmu.root(), TdpMmu.ROOT_LEVEL, 0);
            run.totals();
            if (mmu.legacy) {
                run.untracked();
            }
            for (int v = 0; v < mmu.vcpuCount(); v++) {
                run.tlb(mmu.vcpu(v));
            }
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
        return out;
    }

    private static final class Run {
        private final TdpMmu mmu;
        private final List<String> out;
        private final boolean[] seen;
        private int reached;
        private long large;
        private final GuestWalk walk = new GuestWalk();

        Run(TdpMmu mmu, List<String> out) {
            this.mmu = mmu;
            this.out = out;
            this.seen = new boolean[mmu.idLimit()];
        }

        void table(int id, int level, long gfn) {
            if (!mmu.live(id)) {
                out.add("(e) a level-" + (level + 1) + " entry links table " + id + ", which is not allocated");
                return;
            }
            if (seen[id]) {
                out.add("(e) table " + id + " is linked twice");
                return;
            }
            seen[id] = true;
            reached++;
            if (mmu.tableLevel(id) != level || mmu.tableGfn(id) != gfn) {
                out.add("(e) table " + id + " is level " + mmu.tableLevel(id) + " at gfn 0x"
                        + Long.toHexString(mmu.tableGfn(id)) + " but is linked as level " + level + " at gfn 0x"
                        + Long.toHexString(gfn));
            }
            long[] t = mmu.table(id);
            for (int i = 0; i < Spte.ENTRIES; i++) {
                long e = t[i];
                long g = gfn + ((long) i << (9 * (level - 1)));
                if (!Spte.isPresent(e)) {
                    continue;
                }
                if (Spte.isLast(e, level)) {
                    if (level == TdpMmu.ROOT_LEVEL) {
                        out.add("(e) the root holds a leaf at entry " + i);
                    }
                    leaf(e, level, g);
                } else {
                    table(Spte.childId(e), level - 1, g);
                }
            }
        }

        private void leaf(long e, int level, long gfn) {
            String where = "TDP leaf of gfn 0x" + Long.toHexString(gfn) + " (level " + level + ")";
            Memslot slot = mmu.vm.slotForGfn(gfn);
            long last = gfn + (1L << (9 * (level - 1))) - 1;
            if (slot == null || !slot.contains(last)) {
                out.add("(c) " + where + " does not lie whole in one memslot");
                return;
            }
            if (level > 1) {
                large++;
            }
            if (Spte.pfn(e) != slot.hostFrame(gfn)) {
                out.add("(d) " + where + " maps pfn 0x" + Long.toHexString(Spte.pfn(e)) + ", the slot's frame is 0x"
                        + Long.toHexString(slot.hostFrame(gfn)));
            }
            if (!Spte.isWritable(e)) {
                return;
            }
            if (slot.readonly()) {
                out.add("(d) writable " + where + " in read-only slot " + slot.id());
            }
            if (level == 1) {
                if (mmu.pageTrack.isActive(mmu.vm, gfn, TrackMode.WRITE)) {
                    out.add("(a) writable " + where + " maps a write-tracked gfn");
                }
            } else if (slot.lpageDisallowCount(gfn, level) != 0) {
                // A tracked gfn disallows its frames (add_page), so this also covers (a) for large leaves.
                out.add("(c) writable large " + where + " covers a frame whose disallow count is "
                        + slot.lpageDisallowCount(gfn, level));
            }
        }

        /** (b) under policy=legacy: no write-track count anywhere (lazily allocated counters: cheap when none). */
        void untracked() {
            for (Memslot slot : mmu.vm.memslots()) {
                GfnTrack track = Platform.slot(slot).gfnTrack(TrackMode.WRITE.ordinal());
                if (track.allocatedBytes() == 0) {
                    continue;
                }
                for (long gfn = slot.baseGfn(); gfn < slot.endGfn(); gfn++) {
                    if (track.count(gfn) != 0) {
                        out.add("(b) gfn 0x" + Long.toHexString(gfn) + " is write-tracked (count " + track.count(gfn)
                                + ") on a policy=legacy VM, whose TDP fault path never asks page track");
                    }
                }
            }
        }

        void totals() {
            if (reached != mmu.tablePages()) {
                out.add("(e) " + mmu.tablePages() + " table pages are allocated but " + reached + " are reachable");
            }
            if (large != mmu.stats.get(TdpCounter.LPAGES)) {
                out.add("(e) lpages is " + mmu.stats.get(TdpCounter.LPAGES) + " but the table holds " + large + " large leaves");
            }
        }

        /**
         * (f) for one vCPU, read as a seqlock's reader ({@link TdpTlb#sequence}): the vCPU's thread
         * fills, invalidates and flushes this TLB without the MMU lock, and between taking a flush
         * (its request, a CR3 load, INVLPG, a context change) and finishing it the TLB is
         * legitimately ahead of TDP and of the guest's flush count; it is in an update window
         * then. A vCPU seen in one, or whose count moved while the entries were read (the reports
         * are dropped), or with a flush or context change pending, is not judged this time.
         */
        void tlb(TdpVcpu v) {
            long seq = v.tlb.sequence();
            if ((seq & 1) != 0 || v.tlbFlushPending() || v.contextChangePending()) {
                return;
            }
            int before = out.size();
            tlbEntries(v);
            java.lang.invoke.VarHandle.acquireFence();
            if (v.tlb.sequence() != seq) {
                out.subList(before, out.size()).clear();
            }
        }

        private void tlbEntries(TdpVcpu v) {
            TdpTlb tlb = v.tlb;
            for (int i = 0; i < tlb.size(); i++) {
                long vpn = tlb.vpn(i);
                if (vpn < 0) {
                    continue;
                }
                String entry = "(f) vCPU " + v.vcpu.id() + " TLB entry for gva 0x" + Long.toHexString(vpn << 12);
                if (tlb.epoch(i) != v.guestFlushes) {
                    out.add(entry + " survived a guest TLB flush (CR3 load, INVLPG or paging-mode change)");
                    continue;
                }
                long gfn = tlb.gfn(i);
                long e = mmu.leaf(gfn);
                if (!Spte.isPresent(e)) {
                    out.add(entry + " is stale: TDP no longer maps gfn 0x" + Long.toHexString(gfn));
                    continue;
                }
                long pfn = Spte.pfn(e) + (gfn - TdpMmu.frameBase(gfn, mmu.leafLevel()));
                if (pfn != tlb.pfn(i)) {
                    out.add(entry + " is stale: it names pfn 0x" + Long.toHexString(tlb.pfn(i)) + ", TDP 0x"
                            + Long.toHexString(pfn));
                } else if ((tlb.bits(i) & TdpTlb.TDP_WRITE) != 0 && !Spte.isWritable(e)) {
                    out.add(entry + " is stale: it allows writes to gfn 0x" + Long.toHexString(gfn)
                            + ", TDP maps it read-only");
                }
                guest(v, i, entry);
            }
        }

        /** The guest part of (f): only while the guest entries the fill read are unchanged. */
        private void guest(TdpVcpu v, int i, String entry) {
            TdpTlb tlb = v.tlb;
            int n = tlb.pathLen(i);
            if (n == 0) {
                return; // filled with paging off
            }
            for (int k = 0; k < n; k++) {
                long now = mmu.vm.memory().read(tlb.pathGpa(i, k), tlb.pteSize(i));
                if (((now ^ tlb.pathPte(i, k)) & ~(Pte.A | Pte.D)) != 0) {
                    return; // the guest changed its tables and has not flushed yet: its business
                }
            }
            // A supervisor read with SMAP off: fails only if the tables no longer map the page.
            org.shadowbox.vm.Vcpu c = v.vcpu;
            if (!GuestWalker.walk(walk, mmu.vm.memory(), mmu.vm.maxPhyAddr(), c.get(Register.CR0), c.get(Register.CR3),
                    c.get(Register.CR4) & ~Register.CR4_SMAP, c.get(Register.EFER), c.get(Register.RFLAGS),
                    tlb.vpn(i) << 12, 0, false)) {
                out.add(entry + " exists but the guest tables no longer map it: " + walk);
                return;
            }
            if (walk.gpa >>> 12 != tlb.gfn(i)) {
                out.add(entry + " names gfn 0x" + Long.toHexString(tlb.gfn(i)) + ", the guest tables gfn 0x"
                        + Long.toHexString(walk.gpa >>> 12));
                return;
            }
            int rights = (walk.user ? Spte.ACC_USER : 0) | (walk.writable ? Spte.ACC_WRITE : 0)
                    | (walk.nx ? 0 : Spte.ACC_EXEC);
            if ((tlb.bits(i) & Spte.ACC_ALL & ~rights) != 0) {
                out.add(entry + " grants " + Spte.describeAccess(tlb.bits(i) & Spte.ACC_ALL) + ", the guest tables only "
                        + Spte.describeAccess(rights));
            }
        }
    }
}
