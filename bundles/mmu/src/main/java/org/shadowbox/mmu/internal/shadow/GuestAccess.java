package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Rights;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.spi.Platform;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmException;

/**
 * One vCPU's guest memory accesses, as the processor and KVM's exit handling do them: split at
 * a page boundary, each piece translated by the TLB, else by the hardware walk of the sptes
 * (which fills the TLB), else by {@link PageFault}; a fixed fault restarts the whole
 * instruction; a guest fault is delivered with CR2; an emulated piece makes the whole write go
 * through the emulator ({@code emulator_write_phys}, which notifies page track). Nothing is
 * allocated per access: the pieces live in reused arrays.
 */
final class GuestAccess {
    /** Fixes in a row after which an access that still faults is a bug, not a guest problem. */
    private static final int MAX_RETRIES = 16;
    /** {@link #translate}: the piece has a host page (or an emulation) and may proceed. */
    private static final int TRANSLATED = 3;

    private final VcpuMmu v;
    private final AccessPieces pieces = new AccessPieces();
    private int hwErrorCode;

    GuestAccess(VcpuMmu v) {
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
        // A paging-off guest is charged as supervisor (the context is checked only after this).
        v.meter.access((acc & Pfec.USER) != 0 && (v.vcpu.get(Register.CR0) & Register.CR0_PG) != 0);
        try {
            out.reset();
            v.enterGuest();
            PagingMode mode = v.mode;
            if (!pieces.split(mode, gva, size)) {
                out.exception = GuestWalk.GENERAL_PROTECTION;
                return out;
            }
            int fixes = 0;
            for (int p = 0;;) {
                for (; p < pieces.count(); p++) {
                    int r = translate(p, acc);
                    if (r == PageFault.RET_GUEST_FAULT) {
                        out.exception = GuestWalk.PAGE_FAULT;
                        out.errorCode = v.walk.errorCode;
                        v.vcpu.set(Register.CR2, pieces.gva(p));
                        return out;
                    }
                    if (r == PageFault.RET_FIXED) {
                        if (++fixes > MAX_RETRIES) {
                            throw new IllegalStateException("vCPU " + v.vcpu.id() + ": access to gva 0x"
                                    + Long.toHexString(pieces.gva(0)) + " still faults after " + MAX_RETRIES + " fixes");
                        }
                        v.enterGuest();
                        p = -1; // the instruction restarts: every piece is translated again
                    }
                }
                if ((acc & Pfec.WRITE) == 0 || pieces.emulated()) {
                    // a load, or a store the emulator does by gpa (emulator_write_phys, outside guest mode)
                    v.counting.add(MmuCounter.EMULATED_WRITES, pieces.perform(v.vcpu, value, size, acc, out));
                    return out;
                }
                if (VcpuMode.enterGuestMode(v.requests)) { // a store through the translations: see tlbHit
                    try {
                        if (v.beforeStore != null) {
                            v.beforeStore.run();
                        }
                        pieces.perform(v.vcpu, value, size, acc, out);
                        return out;
                    } finally {
                        VcpuMode.exitGuestMode(v.requests);
                    }
                }
                // A remote flush came in since the pieces were translated: serve it (it may have
                // taken away a translation) and translate them again, as vcpu_enter_guest does.
                v.enterGuest();
                p = 0;
            }
        } finally {
            v.meter.end();
        }
    }

    /**
     * The processor's fast case ({@link TlbHitPath}, which this MMU shares with TDP's): the TLB
     * is looked up with the gva as given, neither truncated nor checked for being canonical:
     * entries are only filled with truncated, canonical gvas of the current paging mode (a mode
     * change flushes the TLB, and {@link VcpuMmu#entryUnchanged} sees the change), so a hit
     * means the gva is both (a 64-bit page shares bits 12-63 with a canonical one; a 32-bit or
     * paging-off one is below 4 GiB), and the whole access is, being within the page.
     */
    boolean tlbHit(long gva, long value, int size, int acc, AccessResult out) {
        return TlbHitPath.tlbHit(v, v.requests, gva, value, size, acc, out);
    }

    /** Translates piece {@code p}: TLB, hardware walk of the sptes, or the fault handler. */
    private int translate(int p, int acc) {
        long gva = pieces.gva(p);
        int off = (int) (gva & 4095);
        int i = v.tlb.lookup(gva >>> 12);
        if (i >= 0 && allowed(v.tlb.access(i), acc)) {
            v.counting.inc(MmuCounter.TLB_HIT);
            pieces.set(p, v.tlb.page(i), (v.tlb.gfn(i) << 12) | off, false);
            return TRANSLATED;
        }
        v.counting.inc(MmuCounter.TLB_MISS);
        v.meter.tlbMiss();
        int errorCode = acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH);
        ShadowPage top = v.shadowWalkRoot(gva);
        if (top != null) {
            // The processor walks without the MMU lock (VcpuMode: the grace period keeps
            // every page it reaches from being freed while it walks).
            VcpuMode.beginLockless(v.requests);
            try {
                int walked;
                boolean counted = true;
                while (true) {
                    walked = hardwareWalk(top, gva, acc, i, counted);
                    if (walked == WALK_RACED) {
                        continue; // a leaf changed under the walk: walk again, as the processor would
                    }
                    if (walked != WALK_NO_HOST_PAGE) {
                        break;
                    }
                    // The leaf maps a frame that is no host memory yet (a page of a large spte's
                    // frame not touched before: the fault made only its own page resident). The
                    // host's page fault is taken outside the lockless window, which a remote flush
                    // waits for, and the walk done again, not counted again: the processor walked
                    // once, and the host's fault is no work of the guest's.
                    VcpuMode.endLockless(v.requests);
                    Platform.slot(hostSlot).hostPage(hostGfn);
                    hostSlot = null;
                    VcpuMode.beginLockless(v.requests);
                    counted = false;
                    top = v.shadowWalkRoot(gva);
                    if (top == null) {
                        walked = WALK_FAULT;
                        hwErrorCode = acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH);
                        break;
                    }
                }
                if (walked == WALK_OK) {
                    int j = v.tlb.lookup(gva >>> 12);
                    pieces.set(p, v.tlb.page(j), (v.tlb.gfn(j) << 12) | off, false);
                    return TRANSLATED;
                }
            } finally {
                VcpuMode.endLockless(v.requests);
            }
            errorCode = hwErrorCode;
        }
        v.meter.begin();
        v.counting.inc(MmuCounter.EXITS); // the #PF exit
        int r = v.nonpaging ? PageFault.nonpagingPageFault(v.mmu, v, gva, errorCode, acc) // mmu.page_fault
                : PageFault.pageFault(v.mmu, v, gva, errorCode, acc);
        if (r == PageFault.RET_EMULATE) {
            pieces.set(p, null, v.walk.gpa, true);
            return TRANSLATED;
        }
        return r;
    }

    /** {@link #hardwareWalk}: the TLB was filled. */
    private static final int WALK_OK = 0;
    /** {@link #hardwareWalk}: a fault, {@link #hwErrorCode} says which. */
    private static final int WALK_FAULT = 1;
    /** {@link #hardwareWalk}: the leaf spte changed while its gfn was read; walk again. */
    private static final int WALK_RACED = 2;
    /**
     * {@link #hardwareWalk}: the leaf maps a gfn whose host page is not resident yet
     * ({@link #hostSlot}, {@link #hostGfn}); make it so outside the window, then walk again.
     */
    private static final int WALK_NO_HOST_PAGE = 3;
    /** The memslot and gfn of a {@link #WALK_NO_HOST_PAGE}. */
    private Memslot hostSlot;
    private long hostGfn;

    /**
     * The processor's walk of the shadow tables, without the MMU lock (between {@link
     * VcpuMode#beginLockless} and {@code endLockless}): rights are the AND over the levels; a success fills
     * the TLB. On a fault {@link #hwErrorCode} holds the hardware error code. The leaf's gfn
     * (from which the host page is found) is read after the leaf spte and the spte read again
     * after it: the gfn is stored before the spte that maps it (release), so an unchanged spte
     * means the gfn is the one it maps; a change means another vCPU remapped the entry
     * meanwhile, and the walk starts over.
     */
    private int hardwareWalk(ShadowPage top, long gva, int acc, int staleSlot, boolean counted) {
        ShadowPage sp = top;
        int rights = Spte.ACC_ALL;
        long gfn;
        long pfn;
        for (int level = v.shadowWalkLevel();; level--) {
            int idx = PageFault.index(gva, level);
            long spte = sp.spteLockless(idx);
            if (counted) {
                v.counting.inc(MmuCounter.TLB_WALK_STEPS);
                v.meter.tlbWalkSteps(1);
            }
            if (!Spte.isPresent(spte)) {
                hwErrorCode = acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH);
                return WALK_FAULT;
            }
            rights &= Spte.access(spte);
            if (Spte.isLast(spte, level)) {
                long within = (gva >>> 12) & ((1L << ((level - 1) * 9)) - 1);
                gfn = sp.gfnLockless(idx) + within;
                if (sp.spteLockless(idx) != spte) {
                    return WALK_RACED;
                }
                pfn = Spte.pfn(spte) + within;
                break;
            }
            sp = v.mmu.pageLockless(Spte.childId(spte));
        }
        if (!allowed(rights, acc)) {
            if (staleSlot >= 0) {
                v.tlb.invalidate(staleSlot);
            }
            hwErrorCode = Pfec.PRESENT | (acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH));
            return WALK_FAULT;
        }
        Memslot slot = v.platform.gfnToMemslot(gfn);
        byte[] page = Platform.slot(slot).hostPageIfPresent(gfn);
        if (page == null) {
            hostSlot = slot;
            hostGfn = gfn;
            return WALK_NO_HOST_PAGE;
        }
        v.tlb.fill(gva >>> 12, gfn, pfn, rights, page, v.hwCr4);
        return WALK_OK;
    }

    /**
     * The hardware's permission check on a translation: CR0.WP is always 1 on the host, so a
     * write needs W; SMEP and SMAP follow the guest's CR4 (and EFLAGS.AC), and are off with
     * paging off ({@link VcpuMmu#hwCr4}).
     */
    private boolean allowed(int rights, int acc) {
        long cr4 = v.hwCr4;
        long rflags = (cr4 & Register.CR4_SMAP) != 0 ? v.vcpu.get(Register.RFLAGS) : 0; // read only when it matters
        return !Rights.permissionFault(acc, (rights & Spte.ACC_USER) != 0, (rights & Spte.ACC_WRITE) != 0,
                (rights & Spte.ACC_EXEC) == 0, Register.CR0_WP, cr4, rflags);
    }

}
