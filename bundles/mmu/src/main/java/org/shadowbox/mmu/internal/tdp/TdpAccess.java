package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.vm.spi.Platform;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.GuestWalker;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.AccessPieces;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.mmu.internal.shadow.TlbHitPath;
import org.shadowbox.mmu.internal.shadow.VcpuMode;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmException;

/**
 * One vCPU's guest memory accesses under TDP, as the processor does them: split at a page
 * boundary; each piece translated by the TLB, else by the guest's own walk (A/D set by the
 * walk, a guest fault delivered with CR2, no exit) followed by the walk of the TDP table;
 * a TDP violation exits to {@link TdpFault}. A fixed violation restarts the instruction; an
 * emulated piece makes the whole write go through the emulator ({@code emulator_write_phys},
 * which notifies page track). Nothing is allocated per access.
 *
 * <p>The guest walk reads and sets A/D in guest memory directly, not through the TDP table:
 * on hardware those accesses are translated by EPT too, and an A/D update of a write-tracked
 * page-table page exits. Shadowbox's walk never exits; A/D updates are host-side writes that
 * notify no tracker, as under shadow paging ({@code update_accessed_dirty_bits}).
 */
final class TdpAccess {
    private static final int MAX_RETRIES = 16;
    private static final int TRANSLATED = 3;

    private final TdpVcpu v;
    private final AccessPieces pieces = new AccessPieces();

    TdpAccess(TdpVcpu v) {
        this.v = v;
    }

    AccessResult access(long gva, long value, int size, int acc, AccessResult out) {
        if (tlbHit(gva, value, size, acc, out)) {
            return out;
        }
        return miss(gva, value, size, acc, out);
    }

    /**
     * {@link #access} once its TLB-hit case ({@link #tlbHit}) has failed, with nothing changed:
     * the general path, from the size check through the walk and the faults to the exit. The
     * {@code GuestCpu} adapter, which tries the hit itself, comes here directly.
     *
     * <p>One method on purpose: it is where the JIT's call boundary falls on every access that
     * misses the TLB. At over {@code FreqInlineSize} (325 bytes of bytecode) it is never inlined
     * ("hot method too big"), whatever the order of compilation and the miss rate, so the code
     * compiled for the adapter's read, write and fetch holds the hit and a call of this, never the
     * general path, and stays small enough for its own caller to inline (docs/mmu.md, "What a TLB
     * hit costs"; {@code TlbHitShapeTest} checks the size).
     */
    AccessResult miss(long gva, long value, int size, int acc, AccessResult out) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new VmException("bad access size " + size + ": accepted 1, 2, 4 or 8 bytes");
        }
        v.meter.access((acc & Pfec.USER) != 0);
        try {
            out.reset();
            v.enterGuest();
            PagingMode mode = PagingMode.of(v.vcpu.get(Register.CR0), v.vcpu.get(Register.CR4), v.vcpu.get(Register.EFER));
            if (!pieces.split(mode, gva, size)) {
                out.exception = GuestWalk.GENERAL_PROTECTION;
                return out;
            }
            int fixes = 0;
            for (int p = 0;;) {
                for (; p < pieces.count(); p++) {
                    int r = translate(p, acc);
                    if (r == TdpFault.RET_GUEST_FAULT) {
                        out.exception = GuestWalk.PAGE_FAULT;
                        out.errorCode = v.walk.errorCode;
                        v.vcpu.set(Register.CR2, pieces.gva(p));
                        return out;
                    }
                    if (r == TdpFault.RET_FIXED) {
                        if (++fixes > MAX_RETRIES) {
                            throw new IllegalStateException("vCPU " + v.vcpu.id() + ": access to gva 0x"
                                    + Long.toHexString(pieces.gva(0)) + " still violates TDP after " + MAX_RETRIES + " fixes");
                        }
                        v.enterGuest();
                        p = -1; // the instruction restarts
                    }
                }
                if ((acc & Pfec.WRITE) == 0 || pieces.emulated()) {
                    v.counting.add(TdpCounter.EMULATED_WRITES, pieces.perform(v.vcpu, value, size, acc, out));
                    return out;
                }
                if (VcpuMode.enterGuestMode(v.requests)) { // a store through the translations (VcpuMode)
                    try {
                        pieces.perform(v.vcpu, value, size, acc, out);
                        return out;
                    } finally {
                        VcpuMode.exitGuestMode(v.requests);
                    }
                }
                v.enterGuest(); // a remote flush came in: serve it and translate again
                p = 0;
            }
        } finally {
            v.meter.end();
        }
    }

    /**
     * The processor's fast case ({@link TlbHitPath}, shared with the shadow MMU): the gva is
     * looked up as given: entries are filled only with truncated, canonical gvas of the current
     * paging mode, and a mode change flushes the TLB, so a hit implies both.
     */
    boolean tlbHit(long gva, long value, int size, int acc, AccessResult out) {
        return TlbHitPath.tlbHit(v, v.requests, gva, value, size, acc, out);
    }

    /** Translates piece {@code p}: TLB, else guest walk and TDP walk, else the TDP fault handler. */
    private int translate(int p, int acc) {
        long gva = pieces.gva(p);
        int off = (int) (gva & 4095);
        TdpTlb tlb = v.tlb;
        int i = tlb.lookup(gva >>> 12);
        if (i >= 0 && tlb.allows(i, acc, v.vcpu.get(Register.CR0), v.vcpu.get(Register.CR4),
                v.vcpu.get(Register.RFLAGS))) {
            v.counting.inc(TdpCounter.TLB_HIT);
            pieces.set(p, tlb.page(i), (tlb.gfn(i) << 12) | off, false);
            return TRANSLATED;
        }
        v.counting.inc(TdpCounter.TLB_MISS);
        v.meter.tlbMiss();
        if (i >= 0) {
            tlb.beginUpdate();
            tlb.invalidate(i); // the walk refills it, or the fault removes it
            tlb.endUpdate();
        }
        GuestWalk w = v.walk;
        boolean walked = GuestWalker.walk(w, v.vcpu, gva, acc, true);
        PagingMode mode = PagingMode.of(v.vcpu.get(Register.CR0), v.vcpu.get(Register.CR4), v.vcpu.get(Register.EFER));
        walkSteps(mode == null ? 0 : mode.rootLevel() - w.level + 1); // the guest's entries the processor read
        if (!walked) {
            v.counting.inc(TdpCounter.GUEST_PF);
            return TdpFault.RET_GUEST_FAULT;
        }
        long gfn = w.gpa >>> 12;
        boolean write = (acc & Pfec.WRITE) != 0;
        int errorCode = acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH);
        TdpMmu mmu = v.mmu;
        // The processor walks the TDP table without the MMU lock (TdpMmu.leafLockless): the
        // grace period of VcpuMode keeps every table it reaches from being freed meanwhile. A
        // leaf changed after it was read is flushed from this TLB by the change's remote flush,
        // which a store sees (its request check) before it lands.
        VcpuMode.beginLockless(v.requests);
        try {
            long e = mmu.leafLockless(gfn, v);
            walkSteps(v.walkSteps); // then the TDP entries of the gpa
            if (Spte.isPresent(e)) {
                if (!write || Spte.isWritable(e)) {
                    int j = fill(gva, gfn, e, v.walkLevel, w);
                    pieces.set(p, tlb.page(j), (gfn << 12) | off, false);
                    return TRANSLATED;
                }
                errorCode |= Pfec.PRESENT;
            }
        } finally {
            VcpuMode.endLockless(v.requests);
        }
        v.meter.begin();
        v.counting.inc(TdpCounter.EXITS); // the TDP violation exits
        int r = TdpFault.pageFault(mmu, v, gfn, errorCode);
        if (r == TdpFault.RET_EMULATE) {
            pieces.set(p, null, w.gpa, true);
            return TRANSLATED;
        }
        return r;
    }

    /** {@code steps} entries read by the processor's walk of the access under way. */
    private void walkSteps(int steps) {
        v.counting.add(TdpCounter.TLB_WALK_STEPS, steps);
        v.meter.tlbWalkSteps(steps);
    }

    /** Fills the TLB from a guest walk and the TDP leaf {@code e} of {@code level}. */
    private int fill(long gva, long gfn, long e, int level, GuestWalk w) {
        int bits = Spte.isWritable(e) ? TdpTlb.TDP_WRITE : 0;
        PagingMode mode = PagingMode.of(v.vcpu.get(Register.CR0), v.vcpu.get(Register.CR4), v.vcpu.get(Register.EFER));
        if (mode == null) {
            bits |= TdpTlb.NO_PAGING | TdpTlb.DIRTY;
        } else {
            bits |= (w.user ? Spte.ACC_USER : 0) | (w.writable ? Spte.ACC_WRITE : 0) | (w.nx ? 0 : Spte.ACC_EXEC);
            if ((w.pte[w.level] & Pte.D) != 0) {
                bits |= TdpTlb.DIRTY;
            }
        }
        long pfn = Spte.pfn(e) + (gfn - TdpMmu.frameBase(gfn, level));
        Memslot slot = v.mmu.vm.slotForGfn(gfn);
        byte[] hostPage = Platform.slot(slot).hostPage(gfn);
        v.tlb.beginUpdate(); // the entry and its path, as one change for the checker
        try {
            int i = v.tlb.fill(gva >>> 12, gfn, pfn, bits, hostPage, v.guestFlushes,
                    v.vcpu.get(Register.CR0), v.vcpu.get(Register.CR4));
            if (mode != null) {
                int k = 0;
                for (int l = mode.rootLevel(); l >= w.level; l--) {
                    v.tlb.recordPath(i, k++, w.pteGpa[l], w.pte[l], mode.pteSize());
                }
            }
            return i;
        } finally {
            v.tlb.endUpdate();
        }
    }

}
