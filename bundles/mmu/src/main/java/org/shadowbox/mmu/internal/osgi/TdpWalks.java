package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.vm.spi.Platform;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.mmu.Walk;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.mmu.internal.tdp.TdpMmu;
import org.shadowbox.mmu.internal.tdp.TdpVcpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * {@code mmu:walk} of a TDP VM: the guest's own walk of the gva (as {@link Walks}: a probe that
 * sets no A/D bit), then the hardware's walk of the TDP table for the gpa it ends at, under the
 * MMU lock. (The processor also translates each guest table's gpa through the TDP table; only
 * the final gpa's walk is shown.) Nothing is filled or faulted in.
 */
final class TdpWalks {
    private TdpWalks() {
    }

    static Walk walk(TdpMmu mmu, TdpVcpu v, long gva) {
        Vcpu cpu = v.vcpu();
        PagingMode mode = PagingMode.of(cpu.get(Register.CR0), cpu.get(Register.CR4), cpu.get(Register.EFER));
        List<Walk.Step> guest = new ArrayList<>();
        long gpa;
        String result;
        if (mode == null) {
            gpa = gva & 0xffff_ffffL;
            result = Walks.pagingOff(gva);
        } else {
            GuestWalk w = new GuestWalk();
            result = Walks.guestWalk(mode, cpu, gva, w, guest);
            if (w.exception != GuestWalk.OK) {
                return new Walk(gva, guest, List.of(), result + "; tdp: not reached (the guest faults first)");
            }
            gpa = w.gpa;
        }
        List<Walk.Step> tdp = new ArrayList<>();
        Platform.mmuLock(mmu.vm()).lock();
        try {
            result += "; tdp: " + tdpWalk(mmu, gpa >>> 12, tdp);
        } finally {
            Platform.mmuLock(mmu.vm()).unlock();
        }
        return new Walk(gva, guest, tdp, result);
    }

    /** The hardware's walk of the TDP table for {@code gfn}; returns a summary. Caller holds the MMU lock. */
    private static String tdpWalk(TdpMmu mmu, long gfn, List<Walk.Step> out) {
        int id = mmu.root();
        for (int level = TdpMmu.ROOT_LEVEL; level >= 1; level--) {
            int idx = (int) ((gfn >>> (9 * (level - 1))) & 511);
            long e = mmu.entry(id, idx);
            String where = "tdp" + id + "[" + idx + "]";
            if (!Spte.isPresent(e)) {
                out.add(new Walk.Step(level, where, e, "not present"));
                return "not present at level " + level + " (the next access is a TDP violation)";
            }
            if (Spte.isLast(e, level)) {
                out.add(new Walk.Step(level, where, e,
                        Walks.leafBits(e) + " -> pfn 0x" + Long.toHexString(Spte.pfn(e))));
                return "gfn 0x" + Long.toHexString(gfn) + ": leaf at level " + level + " ("
                        + Walks.pageSize(1L << (12 + 9 * (level - 1))) + "), "
                        + (Spte.isWritable(e) ? "writable" : "read-only");
            }
            int child = Spte.childId(e);
            out.add(new Walk.Step(level, where, e, Walks.leafBits(e) + " -> tdp" + child + " (gfn 0x"
                    + Long.toHexString(mmu.tableGfn(child)) + ", level " + mmu.tableLevel(child) + ")"));
            id = child;
        }
        throw new IllegalStateException("TDP walk of gfn 0x" + Long.toHexString(gfn) + " passed level 1");
    }
}
