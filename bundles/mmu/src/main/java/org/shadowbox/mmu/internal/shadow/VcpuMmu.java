package org.shadowbox.mmu.internal.shadow;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VmException;

/**
 * One vCPU's MMU context ({@code vcpu->arch.mmu} with {@code root_hpa} and
 * {@code prev_roots}): the root for the current CR3 and a small cache of earlier roots, the
 * base role from CR0/CR4/EFER, pending requests ({@code KVM_REQ_TLB_FLUSH},
 * {@code KVM_REQ_MMU_SYNC}), the {@link Tlb}, and the guest's memory accesses: TLB, then the
 * hardware walk of the sptes, then {@link PageFault}, retrying after a fix.
 *
 * <p>Driven by one thread at a time, as a KVM vCPU is. Other vCPUs only post requests.
 * 64-bit guests only (CR0.PG, CR4.PAE, EFER.LMA); other modes are refused with a VmException.
 */
public final class VcpuMmu {
    static final int REQ_TLB_FLUSH = 1;
    static final int REQ_MMU_SYNC = 2;
    /** Fixes in a row after which an access that still faults is a bug, not a guest problem. */
    private static final int MAX_RETRIES = 16;
    /** {@link #translate}: the piece has a host page (or an emulation) and may proceed. */
    private static final int TRANSLATED = 3;
    private static final VarHandle REQUESTS;
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static {
        try {
            REQUESTS = MethodHandles.lookup().findVarHandle(VcpuMmu.class, "requests", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final ShadowMmu mmu;
    final Vcpu vcpu;
    final Tlb tlb;
    /** This vCPU's counters; only its own thread changes them. */
    final MmuStats stats = new MmuStats();
    final GuestWalk walk = new GuestWalk();
    /** Per level, the rights of the guest entries above it in the current walk. */
    final int[] ptAccess = new int[5];
    /** {@code mmu.base_role}. */
    int baseRole;
    private long cr0;
    private long cr4;
    private long efer;
    private boolean contextValid;
    /** {@code root_hpa}; null when the root gfn is in no memslot (nothing can be shadowed). */
    ShadowPage root;
    private long rootCr3;
    private boolean rootLoaded;
    private final ShadowPage[] prevRoot;
    private final long[] prevCr3;
    @SuppressWarnings("unused") // through REQUESTS
    private volatile int requests;

    // One access's pieces (an access crossing a page has two), reused.
    private final long[] pieceGva = new long[2];
    private final long[] pieceGpa = new long[2];
    private final int[] pieceLen = new int[2];
    private final byte[][] piecePage = new byte[2][];
    private final boolean[] pieceEmulate = new boolean[2];
    private int hwErrorCode;

    VcpuMmu(ShadowMmu mmu, Vcpu vcpu, int tlbEntries, int prevRoots) {
        if (prevRoots < 0 || prevRoots > 16) {
            throw new VmException("bad root cache size " + prevRoots + ": accepted 0 to 16");
        }
        this.mmu = mmu;
        this.vcpu = vcpu;
        this.tlb = new Tlb(tlbEntries);
        this.prevRoot = new ShadowPage[prevRoots];
        this.prevCr3 = new long[prevRoots];
    }

    public Vcpu vcpu() {
        return vcpu;
    }

    public Tlb tlb() {
        return tlb;
    }

    /** The current root (null before the first access, or when CR3 names no memory). */
    public ShadowPage root() {
        return root;
    }

    // ---- requests ----

    /** {@code kvm_make_request(KVM_REQ_TLB_FLUSH)}: flush before the next access. Any thread. */
    void requestTlbFlush() {
        REQUESTS.getAndBitwiseOr(this, REQ_TLB_FLUSH);
    }

    void requestLocalTlbFlush() {
        requestTlbFlush();
    }

    /** {@code KVM_REQ_MMU_SYNC}: sync the roots before the next access. */
    void requestMmuSync() {
        REQUESTS.getAndBitwiseOr(this, REQ_MMU_SYNC);
    }

    /** True while a TLB flush is requested and not yet done. */
    public boolean tlbFlushPending() {
        return ((int) REQUESTS.getVolatile(this) & REQ_TLB_FLUSH) != 0;
    }

    // ---- context, roots, CR3 and INVLPG ----

    /** What KVM does before entering the guest: mode changes, CR3, requests, a zapped root. */
    private void enterGuest() {
        checkContext();
        long c3 = vcpu.get(Register.CR3);
        if (!rootLoaded || c3 != rootCr3 || (root != null && root.invalid())) {
            newRoot(c3);
        }
        int req;
        while ((req = (int) REQUESTS.getAndSet(this, 0)) != 0) {
            if ((req & REQ_MMU_SYNC) != 0 && root != null) {
                mmu.vm.mmuLock().lock();
                try {
                    Sync.syncRoots(mmu, this, root);
                } finally {
                    mmu.vm.mmuLock().unlock();
                }
            }
            if ((req & REQ_TLB_FLUSH) != 0) {
                flushLocal();
            }
        }
    }

    /** {@code kvm_mmu_reset_context} when CR0, CR4 or EFER changed: new base role, roots dropped. */
    private void checkContext() {
        long c0 = vcpu.get(Register.CR0);
        long c4 = vcpu.get(Register.CR4);
        long ef = vcpu.get(Register.EFER);
        if (contextValid && c0 == cr0 && c4 == cr4 && ef == efer) {
            return;
        }
        if (PagingMode.of(c0, c4, ef) != PagingMode.LONG) {
            throw new VmException("vCPU " + vcpu.id() + " is not in 64-bit paging (CR0=0x" + Long.toHexString(c0)
                    + " CR4=0x" + Long.toHexString(c4) + " EFER=0x" + Long.toHexString(ef)
                    + "): the shadow MMU accepts CR0.PG with CR4.PAE and EFER.LMA");
        }
        cr0 = c0;
        cr4 = c4;
        efer = ef;
        baseRole = Role.base(true, (ef & Register.EFER_NXE) != 0, (c0 & Register.CR0_WP) != 0,
                (c4 & Register.CR4_SMEP) != 0, (c4 & Register.CR4_SMAP) != 0);
        contextValid = true;
        freeRoots();
        flushLocal();
    }

    /** {@code kvm_mmu_free_roots(KVM_MMU_ROOTS_ALL)}. */
    private void freeRoots() {
        mmu.vm.mmuLock().lock();
        try {
            if (root != null) {
                mmu.putRoot(root);
            }
            root = null;
            rootLoaded = false;
            for (int i = 0; i < prevRoot.length; i++) {
                if (prevRoot[i] != null) {
                    mmu.putRoot(prevRoot[i]);
                    prevRoot[i] = null;
                }
            }
        } finally {
            mmu.vm.mmuLock().unlock();
        }
    }

    /**
     * {@code kvm_mmu_new_cr3} then {@code kvm_mmu_load}: a cached root of this CR3 and role is
     * reused, an invalidated one is dropped, otherwise {@code kvm_mmu_get_page} makes one; the
     * old root goes to the cache. Then {@code kvm_mmu_sync_roots} and a local TLB flush (a
     * CR3 write without PCID flushes the TLB).
     */
    private void newRoot(long c3) {
        int rootRole = Role.withAccess(Role.withLevel(baseRole, 4), Spte.ACC_ALL);
        long rootGfn = (c3 & Pte.bits(12, 51)) >>> 12;
        mmu.vm.mmuLock().lock();
        try {
            ShadowPage found = null;
            if (rootLoaded && root != null && !root.invalid() && rootCr3 == c3) {
                found = root;
            } else {
                for (int i = 0; i < prevRoot.length; i++) {
                    ShadowPage p = prevRoot[i];
                    if (p != null && !p.invalid() && prevCr3[i] == c3 && p.role == rootRole) {
                        found = p;
                        removePrev(i);
                        break;
                    }
                }
                if (rootLoaded && root != null) {
                    pushPrev(root, rootCr3);
                }
            }
            for (int i = 0; i < prevRoot.length; i++) {
                if (prevRoot[i] != null && prevRoot[i].invalid()) {
                    mmu.putRoot(prevRoot[i]);
                    removePrev(i--);
                }
            }
            if (found == null) {
                if (mmu.vm.slotForGfn(rootGfn) == null) {
                    found = null; // mmu_check_root: every walk reads ones and faults; nothing to shadow
                } else {
                    found = mmu.getPage(this, rootGfn, 4, false, Spte.ACC_ALL);
                    found.rootCount++;
                }
            }
            root = found;
            rootCr3 = c3;
            rootLoaded = true;
            if (root != null) {
                Sync.syncRoots(mmu, this, root);
            }
        } finally {
            mmu.vm.mmuLock().unlock();
        }
        flushLocal();
    }

    private void pushPrev(ShadowPage sp, long c3) {
        if (sp.invalid() || prevRoot.length == 0) {
            mmu.putRoot(sp);
            return;
        }
        ShadowPage evicted = prevRoot[prevRoot.length - 1];
        if (evicted != null) {
            mmu.putRoot(evicted);
        }
        System.arraycopy(prevRoot, 0, prevRoot, 1, prevRoot.length - 1);
        System.arraycopy(prevCr3, 0, prevCr3, 1, prevCr3.length - 1);
        prevRoot[0] = sp;
        prevCr3[0] = c3;
    }

    private void removePrev(int i) {
        System.arraycopy(prevRoot, i + 1, prevRoot, i, prevRoot.length - i - 1);
        System.arraycopy(prevCr3, i + 1, prevCr3, i, prevCr3.length - i - 1);
        prevRoot[prevRoot.length - 1] = null;
    }

    /** The roots this vCPU holds (current and cached), for the checker. */
    int heldRoots(ShadowPage[] out) {
        int n = 0;
        if (root != null) {
            out[n++] = root;
        }
        for (ShadowPage p : prevRoot) {
            if (p != null) {
                out[n++] = p;
            }
        }
        return n;
    }

    int maxHeldRoots() {
        return prevRoot.length + 1;
    }

    /** The guest writes CR3 ({@code kvm_set_cr3}): new root or the same one synced, and a TLB flush. */
    public void writeCr3(long value) {
        vcpu.set(Register.CR3, value);
        checkContext();
        newRoot(value);
    }

    /** The guest executes INVLPG ({@code kvm_mmu_invlpg}): {@code FNAME(invlpg)}, then a TLB flush. */
    public void invlpg(long gva) {
        enterGuest();
        stats.invlpg++;
        if (root != null) {
            mmu.vm.mmuLock().lock();
            try {
                Sync.invlpg(mmu, this, root, gva);
                mmu.commitZap();
            } finally {
                mmu.vm.mmuLock().unlock();
            }
        }
        flushLocal();
    }

    /** {@code kvm_vcpu_flush_tlb}: this vCPU's TLB is emptied now. */
    public void flushLocal() {
        tlb.flush();
        stats.tlbFlush++;
    }

    // ---- guest accesses ----

    /** A guest read of {@code size} (1, 2, 4, 8) bytes at {@code gva}. */
    public AccessResult read(long gva, int size, boolean user, AccessResult out) {
        return access(gva, 0, size, user ? Pfec.USER : 0, out);
    }

    /** A guest write of the low {@code size} bytes of {@code value} at {@code gva}. */
    public AccessResult write(long gva, long value, int size, boolean user, AccessResult out) {
        return access(gva, value, size, Pfec.WRITE | (user ? Pfec.USER : 0), out);
    }

    /** An instruction fetch of {@code size} bytes at {@code gva}. */
    public AccessResult fetch(long gva, int size, boolean user, AccessResult out) {
        return access(gva, 0, size, Pfec.FETCH | (user ? Pfec.USER : 0), out);
    }

    private AccessResult access(long gva, long value, int size, int acc, AccessResult out) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new VmException("bad access size " + size + ": accepted 1, 2, 4 or 8 bytes");
        }
        out.reset();
        enterGuest();
        int first = 4096 - (int) (gva & 4095);
        int pieces = size <= first ? 1 : 2;
        pieceGva[0] = gva;
        pieceLen[0] = Math.min(size, first);
        if (pieces == 2) {
            pieceGva[1] = gva + first;
            pieceLen[1] = size - first;
        }
        for (int p = 0; p < pieces; p++) {
            if (!PagingMode.LONG.canonical(pieceGva[p]) || !PagingMode.LONG.canonical(pieceGva[p] + pieceLen[p] - 1)) {
                out.exception = GuestWalk.GENERAL_PROTECTION;
                return out;
            }
        }
        int fixes = 0;
        for (int p = 0; p < pieces;) {
            int r = translate(p, acc);
            if (r == PageFault.RET_GUEST_FAULT) {
                out.exception = GuestWalk.PAGE_FAULT;
                out.errorCode = walk.errorCode;
                vcpu.set(Register.CR2, pieceGva[p]);
                return out;
            }
            if (r == PageFault.RET_FIXED) {
                if (++fixes > MAX_RETRIES) {
                    throw new IllegalStateException("vCPU " + vcpu.id() + ": access to gva 0x" + Long.toHexString(gva)
                            + " still faults after " + MAX_RETRIES + " fixes");
                }
                enterGuest();
                p = 0; // the instruction restarts: every piece is translated again
                continue;
            }
            p++;
        }
        perform(pieces, value, size, acc, out);
        return out;
    }

    /** Translates piece {@code p}: TLB, hardware walk of the sptes, or the fault handler. */
    private int translate(int p, int acc) {
        long gva = pieceGva[p];
        int off = (int) (gva & 4095);
        int i = tlb.lookup(gva >>> 12);
        if (i >= 0 && allowed(tlb.access(i), acc)) {
            stats.tlbHit++;
            setPiece(p, tlb.page(i), (tlb.gfn(i) << 12) | off, false);
            return TRANSLATED;
        }
        stats.tlbMiss++;
        int errorCode = acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH);
        if (root != null) {
            mmu.vm.mmuLock().lock();
            try {
                if (hardwareWalk(gva, acc, i)) {
                    int j = tlb.lookup(gva >>> 12);
                    setPiece(p, tlb.page(j), (tlb.gfn(j) << 12) | off, false);
                    return TRANSLATED;
                }
            } finally {
                mmu.vm.mmuLock().unlock();
            }
            errorCode = hwErrorCode;
        }
        int r = PageFault.pageFault(mmu, this, gva, errorCode, acc);
        if (r == PageFault.RET_EMULATE) {
            setPiece(p, null, walk.gpa, true);
            return TRANSLATED;
        }
        return r;
    }

    private void setPiece(int p, byte[] page, long gpa, boolean emulate) {
        piecePage[p] = page;
        pieceGpa[p] = gpa;
        pieceEmulate[p] = emulate;
    }

    /**
     * The processor's walk of the shadow tables: rights are the AND over the levels; a
     * success fills the TLB. On failure {@link #hwErrorCode} holds the hardware error code.
     */
    private boolean hardwareWalk(long gva, int acc, int staleSlot) {
        ShadowPage sp = root;
        int rights = Spte.ACC_ALL;
        long gfn;
        long pfn;
        for (int level = 4;; level--) {
            int idx = PageFault.index(gva, level);
            long spte = sp.spt[idx];
            if (!Spte.isPresent(spte)) {
                hwErrorCode = acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH);
                return false;
            }
            rights &= Spte.access(spte);
            if (Spte.isLast(spte, level)) {
                long within = (gva >>> 12) & ((1L << ((level - 1) * 9)) - 1);
                gfn = sp.gfnAt(idx) + within;
                pfn = Spte.pfn(spte) + within;
                break;
            }
            sp = mmu.page(Spte.childId(spte));
        }
        if (!allowed(rights, acc)) {
            if (staleSlot >= 0) {
                tlb.invalidate(staleSlot);
            }
            hwErrorCode = Pfec.PRESENT | (acc & (Pfec.WRITE | Pfec.USER | Pfec.FETCH));
            return false;
        }
        Memslot slot = mmu.vm.slotForGfn(gfn);
        tlb.fill(gva >>> 12, gfn, pfn, rights, slot.hostPage(gfn));
        return true;
    }

    /**
     * The hardware's permission check on a translation: CR0.WP is always 1 on the host, so a
     * write needs W; SMEP and SMAP follow the guest's CR4 (and EFLAGS.AC).
     */
    private boolean allowed(int rights, int acc) {
        boolean fetch = (acc & Pfec.FETCH) != 0;
        boolean write = (acc & Pfec.WRITE) != 0;
        boolean u = (rights & Spte.ACC_USER) != 0;
        if ((acc & Pfec.USER) != 0) {
            return u && (!write || (rights & Spte.ACC_WRITE) != 0) && (!fetch || (rights & Spte.ACC_EXEC) != 0);
        }
        if (fetch) {
            return (rights & Spte.ACC_EXEC) != 0 && !(u && (cr4 & Register.CR4_SMEP) != 0);
        }
        if (u && (cr4 & Register.CR4_SMAP) != 0 && (vcpu.get(Register.RFLAGS) & Register.RFLAGS_AC) == 0) {
            return false;
        }
        return !write || (rights & Spte.ACC_WRITE) != 0;
    }

    /** Does the access once every piece is translated; an emulated piece makes the whole write emulated. */
    private void perform(int pieces, long value, int size, int acc, AccessResult out) {
        boolean emulate = pieceEmulate[0] || (pieces == 2 && pieceEmulate[1]);
        out.gpa = pieceGpa[0];
        out.emulated = emulate;
        if ((acc & Pfec.WRITE) != 0) {
            long v = value;
            for (int p = 0; p < pieces; p++) {
                int len = pieceLen[p];
                if (emulate) {
                    emulateWrite(pieceGpa[p], v, len);
                } else {
                    store(piecePage[p], (int) (pieceGpa[p] & 4095), v, len);
                }
                v = len == 8 ? 0 : v >>> (8 * len);
            }
            out.value = size == 8 ? value : value & ((1L << (8 * size)) - 1);
            return;
        }
        long v = 0;
        int shift = 0;
        for (int p = 0; p < pieces; p++) {
            int len = pieceLen[p];
            long part = pieceEmulate[p] ? readGpa(pieceGpa[p], len) : load(piecePage[p], (int) (pieceGpa[p] & 4095), len);
            v |= part << shift;
            shift += 8 * len;
        }
        out.value = v;
    }

    /** The emulator's write: {@link Vcpu#emulatorWritePhys} in pieces of 8, 4, 2 and 1 bytes. */
    private void emulateWrite(long gpa, long value, int len) {
        while (len > 0) {
            int c = len >= 8 ? 8 : len >= 4 ? 4 : len >= 2 ? 2 : 1;
            vcpu.emulatorWritePhys(gpa, c == 8 ? value : value & ((1L << (8 * c)) - 1), c);
            gpa += c;
            value = c == 8 ? 0 : value >>> (8 * c);
            len -= c;
        }
    }

    private long readGpa(long gpa, int len) {
        if (Integer.bitCount(len) == 1) {
            return mmu.vm.memory().read(gpa, len);
        }
        long v = 0;
        for (int i = 0; i < len; i++) {
            v |= mmu.vm.memory().read(gpa + i, 1) << (8 * i);
        }
        return v;
    }

    private static long load(byte[] page, int off, int len) {
        switch (len) {
            case 1: return page[off] & 0xffL;
            case 2: return (short) SHORT.get(page, off) & 0xffffL;
            case 4: return (int) INT.get(page, off) & 0xffff_ffffL;
            case 8: return (long) LONG.get(page, off);
            default:
                long v = 0;
                for (int i = 0; i < len; i++) {
                    v |= (page[off + i] & 0xffL) << (8 * i);
                }
                return v;
        }
    }

    private static void store(byte[] page, int off, long value, int len) {
        switch (len) {
            case 1: page[off] = (byte) value; break;
            case 2: SHORT.set(page, off, (short) value); break;
            case 4: INT.set(page, off, (int) value); break;
            case 8: LONG.set(page, off, value); break;
            default:
                for (int i = 0; i < len; i++) {
                    page[off + i] = (byte) (value >>> (8 * i));
                }
        }
    }
}
