package org.shadowbox.mmu.internal.shadow;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VmException;

/**
 * One vCPU's MMU context ({@code vcpu->arch.mmu} with {@code root_hpa} and
 * {@code prev_roots}): the root for the current CR3 and a small cache of earlier roots, the
 * base role from CR0/CR4/EFER, pending requests ({@code KVM_REQ_TLB_FLUSH},
 * {@code KVM_REQ_MMU_SYNC}), the {@link Tlb}, CR3 writes and INVLPG, and the guest's memory
 * accesses ({@link GuestAccess}: TLB, then the hardware walk of the sptes, then {@link PageFault}).
 *
 * <p>Driven by one thread at a time, as a KVM vCPU is. Other vCPUs only post requests.
 * 64-bit guests only (CR0.PG, CR4.PAE, EFER.LMA); other modes are refused with a VmException.
 */
public final class VcpuMmu {
    static final int REQ_TLB_FLUSH = 1;
    static final int REQ_MMU_SYNC = 2;
    private static final VarHandle REQUESTS;

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
    /** CR4 as of the last context check (SMEP and SMAP for the hardware's permission check). */
    long cr4;
    private long efer;
    private boolean contextValid;
    /** {@code root_hpa}; null when the root gfn is in no memslot (nothing can be shadowed). */
    ShadowPage root;
    private long rootCr3;
    private boolean rootLoaded;
    private final ShadowPage[] prevRoot;
    private final GuestAccess access = new GuestAccess(this);
    private final long[] prevCr3;
    @SuppressWarnings("unused") // through REQUESTS
    private volatile int requests;

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
    public void requestTlbFlush() {
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
    void enterGuest() {
        checkContext();
        long c3 = vcpu.get(Register.CR3);
        if (!rootLoaded || c3 != rootCr3 || (root != null && root.invalid())) {
            newRoot(c3);
        }
        int req;
        while ((int) REQUESTS.getVolatile(this) != 0 && (req = (int) REQUESTS.getAndSet(this, 0)) != 0) {
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
        return access.access(gva, 0, size, user ? Pfec.USER : 0, out);
    }

    /** A guest write of the low {@code size} bytes of {@code value} at {@code gva}. */
    public AccessResult write(long gva, long value, int size, boolean user, AccessResult out) {
        return access.access(gva, value, size, Pfec.WRITE | (user ? Pfec.USER : 0), out);
    }

    /** An instruction fetch of {@code size} bytes at {@code gva}. */
    public AccessResult fetch(long gva, int size, boolean user, AccessResult out) {
        return access.access(gva, 0, size, Pfec.FETCH | (user ? Pfec.USER : 0), out);
    }

}
