package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.vm.spi.Platform;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.mmu.Walk;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.GuestWalker;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.Role;
import org.shadowbox.mmu.internal.shadow.ShadowMmu;
import org.shadowbox.mmu.internal.shadow.ShadowPage;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.mmu.internal.shadow.VcpuMmu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * {@code mmu:walk} of a shadow-paged VM: what translating a gva meets, for a person to read.
 * The guest walk is a supervisor read probe by the architectural walker that changes nothing
 * (no accessed or dirty bit is set); the shadow walk is the hardware's walk of the vCPU's
 * current shadow root under the MMU lock. Neither fills the TLB nor faults anything in.
 * {@link TdpWalks} does the same for a TDP VM.
 */
final class Walks {
    private Walks() {
    }

    static Walk walk(ShadowMmu mmu, VcpuMmu v, long gva) {
        Vcpu cpu = v.vcpu();
        PagingMode mode = PagingMode.of(cpu.get(Register.CR0), cpu.get(Register.CR4), cpu.get(Register.EFER));
        List<Walk.Step> guest = new ArrayList<>();
        List<Walk.Step> shadow = new ArrayList<>();
        if (mode == null) {
            if (!v.nonpaging()) {
                return new Walk(gva, guest, List.of(), pagingOff(gva) + " (no guest tables; the identity map is"
                        + " made at the vCPU's next access)");
            }
            String result = pagingOff(gva) + " (no guest tables)";
            Platform.mmuLock(mmu.vm()).lock();
            try {
                // KVM's nonpaging context: the identity map under the PAE root's direct pages.
                long a = gva & 0xffff_ffffL;
                result += "; shadow: " + shadowWalk(mmu, v.shadowWalkRoot(a), v.shadowWalkLevel(), a, shadow);
            } finally {
                Platform.mmuLock(mmu.vm()).unlock();
            }
            return new Walk(gva, guest, shadow, result);
        }
        String result = guestWalk(mode, cpu, gva, new GuestWalk(), guest);
        Platform.mmuLock(mmu.vm()).lock();
        try {
            // A 64-bit guest's walk starts at its level-4 root; a PAE or 32-bit guest's at the
            // PAE root entry for gva bits 31:30, a level-2 page (KVM's pae_root).
            result += "; shadow: " + shadowWalk(mmu, v.shadowWalkRoot(gva), v.shadowWalkLevel(), gva, shadow);
        } finally {
            Platform.mmuLock(mmu.vm()).unlock();
        }
        return new Walk(gva, guest, shadow, result);
    }

    /** With paging off the gpa is the gva's low 32 bits. */
    static String pagingOff(long gva) {
        return "paging off: gpa = gva 0x" + Long.toHexString(gva & 0xffff_ffffL);
    }

    /**
     * The guest part of a walk: a supervisor read probe of the guest's tables that sets no A/D
     * bit, its levels appended to {@code out}; returns the one-line guest result. {@code w}
     * holds the outcome ({@link GuestWalk#OK} and the gpa, or the fault).
     */
    static String guestWalk(PagingMode mode, Vcpu cpu, long gva, GuestWalk w, List<Walk.Step> out) {
        GuestWalker.walk(w, cpu, gva, 0, false);
        if (w.exception != GuestWalk.GENERAL_PROTECTION) {
            for (int level = mode.rootLevel(); level >= w.level; level--) {
                out.add(new Walk.Step(level, "0x" + Long.toHexString(w.pteGpa[level]), w.pte[level],
                        guestEntry(mode, w, level, cpu.get(Register.CR4))));
            }
        }
        return guestResult(mode, w);
    }

    private static String guestEntry(PagingMode mode, GuestWalk w, int level, long cr4) {
        long pte = w.pte[level];
        if ((pte & Pte.P) == 0) {
            return "not present";
        }
        String bits = Pte.describe(pte);
        if (level == w.level && w.exception == GuestWalk.PAGE_FAULT && (w.errorCode & Pfec.RSVD) != 0) {
            return bits + " (reserved bits set)";
        }
        if (mode.isLeaf(pte, level, cr4)) {
            return bits + " -> page 0x" + Long.toHexString(mode.leafAddress(pte, level, 0));
        }
        return bits + " -> table 0x" + Long.toHexString(mode.tableAddress(pte, level));
    }

    private static String guestResult(PagingMode mode, GuestWalk w) {
        if (w.exception == GuestWalk.GENERAL_PROTECTION) {
            return "guest: #GP (non-canonical address)";
        }
        if (w.exception == GuestWalk.PAGE_FAULT) {
            return "guest: #PF error code " + Pfec.describe(w.errorCode) + " at level " + w.level
                    + " (a supervisor read)";
        }
        return "guest: gpa 0x" + Long.toHexString(w.gpa) + " (" + pageSize(w.pageSize(mode)) + " page, "
                + (w.user ? "user" : "supervisor") + (w.writable ? ", writable" : ", read-only")
                + (w.nx ? ", no-execute" : "") + ")";
    }

    /** The hardware's walk of the shadow tables from {@code root}; returns a summary. */
    private static String shadowWalk(ShadowMmu mmu, ShadowPage root, int top, long gva, List<Walk.Step> out) {
        if (root == null) {
            return "no root (the vCPU has not run since its MMU context was reset, or CR3 names no memory)";
        }
        ShadowPage sp = root;
        for (int level = top; level >= 1; level--) {
            int idx = (int) ((gva >>> (12 + 9 * (level - 1))) & 511);
            long spte = sp.spte(idx);
            String where = "sp" + sp.id() + "[" + idx + "]";
            if (!Spte.isPresent(spte)) {
                out.add(new Walk.Step(level, where, spte, "not present"));
                return "not present at level " + level + " (the next access faults into the MMU)";
            }
            if (Spte.isLast(spte, level)) {
                out.add(new Walk.Step(level, where, spte, leafBits(spte) + " -> pfn 0x" + Long.toHexString(Spte.pfn(spte))
                        + " (gfn 0x" + Long.toHexString(sp.gfnAt(idx)) + ")"));
                return "leaf at level " + level + ", " + (Spte.isWritable(spte) ? "writable" : "read-only")
                        + (root.invalid() ? " (root invalid: reloaded at the next access)" : "");
            }
            ShadowPage child = mmu.page(Spte.childId(spte));
            out.add(new Walk.Step(level, where, spte, leafBits(spte) + " -> sp" + child.id() + " (gfn 0x" + Long.toHexString(child.gfn())
                    + ", " + Role.describe(child.role()) + (child.unsync() ? ", unsync" : "") + ")"));
            sp = child;
        }
        throw new IllegalStateException("shadow walk of 0x" + Long.toHexString(gva) + " passed level 1");
    }

    /** An spte's bits by name: P, W, U, A, D, PS, NX and KVM's mmu-writable bit. */
    static String leafBits(long spte) {
        StringBuilder sb = new StringBuilder("P");
        append(sb, spte, Spte.WRITABLE, "W");
        append(sb, spte, Spte.USER, "U");
        append(sb, spte, Spte.ACCESSED, "A");
        append(sb, spte, Spte.DIRTY, "D");
        append(sb, spte, Spte.LARGE, "PS");
        append(sb, spte, Spte.NX, "NX");
        append(sb, spte, Spte.MMU_WRITEABLE, "mmu-w");
        return sb.toString();
    }

    private static void append(StringBuilder sb, long spte, long bit, String name) {
        if ((spte & bit) != 0) {
            sb.append('|').append(name);
        }
    }

    static String pageSize(long bytes) {
        if (bytes >= 1L << 30) {
            return (bytes >>> 30) + " GiB";
        }
        if (bytes >= 1L << 20) {
            return (bytes >>> 20) + " MiB";
        }
        return (bytes >>> 10) + " KiB";
    }
}
