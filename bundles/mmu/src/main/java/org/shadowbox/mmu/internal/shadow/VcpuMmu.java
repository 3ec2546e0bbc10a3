package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;
import org.shadowbox.vm.spi.PlatformVcpu;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VmException;

/**
 * One vCPU's MMU context ({@code vcpu->arch.mmu} with {@code root_hpa} and
 * {@code prev_roots}): the root for the current CR3 and a small cache of earlier roots, the
 * base role from CR0/CR4/EFER, pending requests ({@code KVM_REQ_TLB_FLUSH},
 * {@code KVM_REQ_MMU_SYNC}), the {@link Tlb}, CR3 writes and INVLPG, and the guest's memory
 * accesses ({@link GuestAccess}: TLB, then the hardware walk of the sptes, then {@link PageFault}).
 *
 * <p>Guest modes: 64-bit (a 4-level shadow root, with a cache of earlier roots), and PAE and
 * 32-bit, which KVM shadows under a PAE root ({@code pae_root}: 4 entries, each naming a level-2
 * shadow page, as {@code mmu_alloc_shadow_roots} builds it). A PAE guest's 4 PDPTEs are loaded
 * when CR3 is written or the paging mode changes ({@code load_pdptrs}) and used from then on,
 * by the shadow and by the MMU's guest walks, until the next CR3 write. A 32-bit guest's
 * 1024-entry directory is shadowed by 4 level-2 pages, one per quadrant (gva bits 31:30). Paging
 * off (CR0.PG clear) is KVM's nonpaging context ({@code nonpaging_init_context}: {@code direct_map},
 * {@code shadow_root_level} PT32E): the gva's 32 bits are the gpa ({@code nonpaging_gva_to_gpa}),
 * the root is a PAE root of 4 direct level-2 pages ({@code mmu_alloc_direct_roots}) and faults go
 * to {@link PageFault#nonpagingPageFault}; there is nothing to sync and INVLPG only flushes.
 *
 * <p>Driven by one thread at a time, as a KVM vCPU is. Other vCPUs only post requests.
 */
public final class VcpuMmu implements GuestVcpu {
    final ShadowMmu mmu;
    final Vcpu vcpu;
    /**
     * The vCPU's own view of the slots and of guest memory ({@link PlatformVcpu#gfnToMemslot},
     * {@link PlatformVcpu#memory}: {@code kvm_vcpu_gfn_to_memslot}, {@code kvm_vcpu_read_guest}),
     * for the fault path on this vCPU's thread.
     */
    final PlatformVcpu platform;
    /** {@link PlatformVcpu#memory} of {@link #platform}: what the fault path's guest walk and gpte re-checks read. */
    final GuestMemory guestMemory;
    final Tlb tlb;
    /** The work of this vCPU's exits by the guest mode that took them (the cost model's input). */
    final ExitMeter<MmuStats> meter;
    /**
     * The block this vCPU counts into now ({@code vcpu->stat}'s place): one of its meter's three,
     * switched as exit windows open and close. Only its own thread changes it. Read a counter
     * with {@link #count}, which sums the three.
     */
    MmuStats counting;
    /** Set at the first entry: before it the vCPU never was in guest mode (KVM's {@code OUTSIDE_GUEST_MODE}). */
    private volatile boolean entered;
    final GuestWalk walk = new GuestWalk();
    /**
     * Faults retried because {@code FNAME(gpte_changed)} found a walked gpte rewritten before
     * the MMU lock was taken ({@code RET_PF_RETRY}). Kept here, not in {@link MmuStats}, while
     * the statistics are being reshaped (issue 10); only this vCPU's thread changes it.
     */
    long gpteChangedRetries;
    /**
     * Run by {@link PageFault#pageFault} between the lockless guest walk and taking the MMU
     * lock, where another vCPU's page-table write can land; null (nothing) except in the tests
     * that put such a write there deterministically. Set before the vCPU's thread runs.
     */
    Runnable afterGuestWalk;
    /**
     * Run by {@link GuestAccess} in guest mode just before a store translated on the slow path
     * lands: null (nothing) except in the test that holds a store in flight while another
     * thread flushes. Set before the vCPU's thread runs.
     */
    Runnable beforeStore;
    /** Per level, the rights of the guest entries above it in the current walk. */
    final int[] ptAccess = new int[5];
    /** {@code mmu.base_role}. */
    int baseRole;
    private long cr0;
    /** CR4 as of the last context check (SMEP and SMAP for the hardware's permission check). */
    long cr4;
    private long efer;
    private boolean contextValid;
    /** The guest's paging mode as of the last context check (null before the first, and with paging off). */
    PagingMode mode;
    /**
     * The context is KVM's nonpaging one (CR0.PG clear): {@code mmu.direct_map} of a shadow
     * context. The roots are the 4 direct pages of the PAE root.
     */
    boolean nonpaging;
    /**
     * The CR4 the processor runs the guest with: the guest's, except that with paging off KVM
     * clears SMEP and SMAP in hardware (they do not apply without paging, and the hardware does
     * page, through the identity map).
     */
    long hwCr4;
    /** {@code root_hpa} of a 64-bit guest; null when the root gfn is in no memslot (nothing can be shadowed). */
    ShadowPage root;
    /**
     * {@code pae_root} of a PAE or 32-bit guest: entry i is the level-2 shadow page for gva
     * bits 31:30 = i, or null (a not-present or bad PDPTE, or a table in no memslot).
     */
    final ShadowPage[] paeRoot = new ShadowPage[4];
    /** {@code walk_mmu->pdptrs}: a PAE guest's PDPTEs as loaded at the last CR3 write. */
    final long[] pdptrs = new long[4];
    private long rootCr3;
    private boolean rootLoaded;
    private final ShadowPage[] prevRoot;
    private final GuestAccess access = new GuestAccess(this);
    private final long[] prevCr3;
    /** Pending requests, and the vCPU's mode for the lockless walks ({@link VcpuMode}): one padded object. */
    final VcpuRequests requests = new VcpuRequests();
    /** {@code vcpu->arch.mmu_page_cache}: topped up before each section that may make shadow pages. */
    final MmuMemoryCache memoryCache = new MmuMemoryCache();

    VcpuMmu(ShadowMmu mmu, Vcpu vcpu, int tlbEntries, int prevRoots) {
        if (prevRoots < 0 || prevRoots > 16) {
            throw new VmException("bad root cache size " + prevRoots + ": accepted 0 to 16");
        }
        this.mmu = mmu;
        this.meter = new ExitMeter<>(new CountersNow(), MmuStats::new);
        this.counting = meter.counting();
        this.vcpu = vcpu;
        this.platform = Platform.vcpu(vcpu);
        this.guestMemory = platform.memory();
        // kvm_mmu_reset_context's place: a register write posts CONTEXT_CHANGED (it captures the
        // request word only; a later MMU of the same VM replaces it)
        VcpuRequests r = requests;
        r.make(VcpuRequests.CONTEXT_CHANGED); // never entered yet
        platform.mmuContextHook(() -> r.make(VcpuRequests.CONTEXT_CHANGED));
        this.tlb = new Tlb(tlbEntries);
        this.prevRoot = new ShadowPage[prevRoots];
        this.prevCr3 = new long[prevRoots];
    }

    @Override
    public Vcpu vcpu() {
        return vcpu;
    }

    public Tlb tlb() {
        return tlb;
    }

    /** The work of this vCPU's exits by guest mode, and its accesses by mode. */
    public ExitMeter<MmuStats> meter() {
        return meter;
    }

    /**
     * This vCPU's {@code tlb_hit}: the general path's hits (its counter block) plus those of the
     * fast case, which the meter counts once as an access and a hit ({@link ExitMeter#hit}).
     */
    public long tlbHits() {
        return meter.ownCount(MmuCounter.TLB_HIT.ordinal()) + meter.hits();
    }

    /** This vCPU's counter {@code c} ({@link ExitMeter#ownCount}). */
    public long count(MmuCounter c) {
        return meter.ownCount(c.ordinal());
    }

    /**
     * The meter's window: this vCPU counts into the window's block; the VM's counters are copied
     * (one run of 16, {@link VmCounters#setNow}) and subtracted only if one changed; the hash
     * table's two are read directly.
     */
    private final class CountersNow implements ExitMeter.Source<MmuStats> {
        /** The VM's counters when the window opened ({@link VmCounters#setNow}). */
        private final long[] before = mmu.stats.newSnapshot();
        /** The hash table's two counters when the window opened. */
        private long chainSteps;
        private long lookups;

        @Override
        public void countInto(MmuStats block) {
            counting = block;
        }

        @Override
        public void snapshot() {
            mmu.stats.setNow(before);
            chainSteps = mmu.pages.hashChainSteps;
            lookups = mmu.pages.hashLookups;
        }

        @Override
        public void addSince(MmuStats into) {
            mmu.stats.addSince(before, into);
            into.add(MmuCounter.HASH_CHAIN_STEPS, mmu.pages.hashChainSteps - chainSteps);
            into.add(MmuCounter.HASH_LOOKUPS, mmu.pages.hashLookups - lookups);
        }
    }

    /**
     * The current root of a 64-bit guest (null before the first access, when CR3 names no
     * memory, or for a PAE or 32-bit guest: see {@link #paeRoot(int)}).
     */
    public ShadowPage root() {
        return root;
    }

    /** Entry {@code i} (0-3) of the PAE root of a PAE or 32-bit guest, or null. */
    public ShadowPage paeRoot(int i) {
        return paeRoot[i];
    }

    /** The paging mode the vCPU was last entered in (null before its first access, and with paging off). */
    public PagingMode mode() {
        return mode;
    }

    /** True if the vCPU was last entered with paging off (KVM's nonpaging context). */
    public boolean nonpaging() {
        return nonpaging;
    }

    /**
     * {@code shadow_walk_init}: the shadow page a walk of {@code gva} starts in: the root of a
     * 64-bit guest, else the PAE root's entry for gva bits 31:30 (null: nothing mapped there).
     */
    public ShadowPage shadowWalkRoot(long gva) {
        return mode == PagingMode.LONG || mode == null && !nonpaging ? root : paeRoot[(int) (gva >>> 30) & 3];
    }

    /** The level of {@link #shadowWalkRoot}'s page: 4 for a 64-bit guest, else 2 (PAE root). */
    /** Faults retried after {@code FNAME(gpte_changed)} ({@link #gpteChangedRetries}). */
    public long gpteChangedRetries() {
        return gpteChangedRetries;
    }

    public int shadowWalkLevel() {
        return mode == PagingMode.LONG || mode == null && !nonpaging ? 4 : 2;
    }

    /**
     * True if the root, or any entry of the PAE root, was zapped ({@code KVM_REQ_MMU_RELOAD}):
     * the next entry reloads the roots and flushes the TLB ({@code kvm_mmu_load}).
     */
    boolean rootInvalid() {
        if (root != null && root.invalid()) {
            return true;
        }
        for (ShadowPage p : paeRoot) {
            if (p != null && p.invalid()) {
                return true;
            }
        }
        return false;
    }

    // ---- requests ----

    /** {@code kvm_make_request(KVM_REQ_TLB_FLUSH)}: flush before the next access. Any thread. */
    @Override
    public void requestTlbFlush() {
        requests.make(VcpuRequests.TLB_FLUSH);
    }

    /** {@code kvm_make_request(KVM_REQ_VM_DEAD)} ({@code kvm_vm_dead}): every access takes the general path from now on. */
    @Override
    public void requestVmDead() {
        requests.make(VcpuRequests.VM_DEAD);
    }

    void requestLocalTlbFlush() {
        requestTlbFlush();
    }

    /** {@code KVM_REQ_MMU_SYNC}: sync the roots before the next access. */
    void requestMmuSync() {
        requests.make(VcpuRequests.MMU_SYNC);
    }

    /**
     * This vCPU's part of a remote flush ({@link ShadowMmu#flushRemoteTlbs}): the request, and an
     * IPI if the vCPU is in guest mode: it has entered the guest at least once, it is not in an
     * exit of its own (its meter window is closed: the requester itself never is in guest mode)
     * and no earlier IPI is still pending.
     *
     * @return true if an IPI was sent to this vCPU
     */
    boolean requestRemoteTlbFlush() {
        return requests.makeRemoteFlush(entered && !meter.inExit());
    }

    /** True while a TLB flush is requested and not yet done. */
    public boolean tlbFlushPending() {
        return requests.pending(VcpuRequests.TLB_FLUSH);
    }

    // ---- context, roots, CR3 and INVLPG ----

    /**
     * True when {@link #enterGuest} has nothing to do: CR0, CR4, EFER and CR3 are those the
     * context and the roots were set up for, no request is pending and no root was zapped since
     * the last entry. The hot path of a TLB hit asks this instead: one load of the request word.
     *
     * <p>Nothing else is read: {@link org.shadowbox.vm.Vcpu#set} (the vm bundle's, used by the
     * guest model, tests and the shell) posts {@link VcpuRequests#CONTEXT_CHANGED} on every change
     * of the four ({@link PlatformVcpu#mmuContextHook}), where KVM's {@code kvm_set_cr0} and the
     * others reset the MMU context, and a root zap posts {@link VcpuRequests#MMU_RELOAD} to every
     * vCPU ({@code kvm_reload_remote_mmus}). A full entry clears both before it reads the
     * registers and looks at the roots, and posts {@code CONTEXT_CHANGED} again if it fails.
     */
    @Override
    public boolean entryUnchanged() {
        return requests.none();
    }

    /**
     * {@link TlbHitPath.Hit#hit}: the shadow TLB, its permission bits decided at fill time. Here,
     * on the vCPU, not on its {@link GuestAccess}: the fast path reads only this object's fields
     * and what they point to, one hop fewer per field.
     */
    @Override
    public boolean hit(long gva, long value, int size, int acc, AccessResult out, int off) {
        int i = hitEntry(gva, acc);
        if (i < 0) {
            return false;
        }
        TlbHitPath.perform(tlb.page(i), (tlb.gfn(i) << 12) | off, value, size, acc, off, out);
        return true;
    }

    /**
     * The TLB part of a hit: the lookup (one tag compare) and the permission bit decided at fill
     * time ({@code permission_fault} under this context's CR0.WP, CR4.SMEP and CR4.SMAP, with
     * EFLAGS.AC read only when CR4.SMAP makes it matter); on a hit the access is counted (one
     * count, the meter's {@link ExitMeter#hit}, read as an access of its mode and as {@code
     * tlb_hit}) and the slot returned, else -1 with nothing changed.
     */
    private int hitEntry(long gva, int acc) {
        Tlb t = tlb;
        int i = t.lookup(gva >>> 12);
        if (i < 0 || !t.allows(i, acc, (hwCr4 & Register.CR4_SMAP) != 0
                && (vcpu.get(Register.RFLAGS) & Register.RFLAGS_AC) != 0)) { // EFLAGS read only when it matters
            return -1;
        }
        meter.hit((acc & Pfec.USER) != 0 && !nonpaging); // the access and tlb_hit, one count (tlbHits)
        return i;
    }

    /** What KVM does before entering the guest: mode changes, CR3, requests, a zapped root. */
    void enterGuest() {
        if (!entered) {
            // Set once: it never goes back to false, and a volatile store on every entry was a full fence
            // per entry (two per fault) that publishes nothing new.
            entered = true;
        }
        if (requests.none()) {
            // Nothing of the context, CR3 or the roots changed and no request is pending since an
            // entry that finished (entryUnchanged): enterGuest0 would find nothing to do (KVM's
            // vcpu_enter_guest tests the request bits, kvm_mmu_reload tests root_hpa). A fault
            // enters twice (before the access and for its retry).
            return;
        }
        // First: a root zap or a register write during the work below (a sync can zap) makes
        // the next entry full again (each posts its bit anew; take() leaves both).
        requests.takeEntryChecks();
        boolean finished = false;
        try {
            enterGuest0();
            finished = true;
        } finally {
            if (!finished) {
                requests.make(VcpuRequests.CONTEXT_CHANGED); // the next entry is a full one again
            }
        }
    }

    private void enterGuest0() {
        checkContext();
        long c3 = vcpu.get(Register.CR3);
        if (!rootLoaded || c3 != rootCr3) {
            meter.begin();
            newRoot(c3, true);
        } else if (rootInvalid()) {
            meter.begin();
            newRoot(c3, false); // kvm_mmu_reload: the same CR3 and the PDPTEs already loaded
        }
        while (requests.anyPosted()) { // only this thread clears requests: take() below finds some
            // From before the take (it clears KVM_REQ_TLB_FLUSH) until the flush is done, the TLB
            // may hold what the sptes no longer map with no request left to show it; the MMU sync
            // between them may wait for the MMU lock. The window says so to the checker.
            tlb.beginFlushWindow();
            try {
                int req = requests.take();
                meter.begin();
                if ((req & VcpuRequests.MMU_SYNC) != 0) {
                    Platform.mmuLock(mmu.vm).lock();
                    counting.inc(MmuCounter.MMU_LOCK);
                    try {
                        syncRoots();
                    } finally {
                        Platform.mmuLock(mmu.vm).unlock();
                    }
                }
                if ((req & VcpuRequests.KICKED) != 0) {
                    counting.inc(MmuCounter.IPI_EXITS); // the IPI's exit, paid on this vCPU's clock
                }
                if ((req & VcpuRequests.TLB_FLUSH) != 0) {
                    flushLocal();
                }
            } finally {
                tlb.endFlushWindow();
            }
        }
    }

    /**
     * {@code kvm_mmu_reset_context} when CR0, CR4 or EFER changed (CR0.PG toggling among them):
     * new context ({@code init_kvm_softmmu}: nonpaging or a paging mode), new base role, roots dropped.
     */
    private void checkContext() {
        long c0 = vcpu.get(Register.CR0);
        long c4 = vcpu.get(Register.CR4);
        long ef = vcpu.get(Register.EFER);
        if (contextValid && c0 == cr0 && c4 == cr4 && ef == efer) {
            return;
        }
        meter.begin();
        PagingMode m = PagingMode.of(c0, c4, ef);
        tlb.beginFlushWindow(); // the roots go and the mode changes before the flush (the checker reads both)
        try {
            freeRoots();
            mode = m;
            nonpaging = m == null; // nonpaging_init_context
            cr0 = c0;
            cr4 = c4;
            efer = ef;
            hwCr4 = nonpaging ? c4 & ~(Register.CR4_SMEP | Register.CR4_SMAP) : c4;
            // role.cr4_pae is clear for a 32-bit guest: its 4-byte gptes need quadrants. With paging
            // off it is CR4.PAE as KVM reads it (is_pae); direct pages clear it anyway.
            baseRole = Role.base(nonpaging ? (c4 & Register.CR4_PAE) != 0 : m.pae(), (ef & Register.EFER_NXE) != 0,
                    (c0 & Register.CR0_WP) != 0, (c4 & Register.CR4_SMEP) != 0, (c4 & Register.CR4_SMAP) != 0);
            contextValid = true;
            flushLocal();
        } finally {
            tlb.endFlushWindow();
        }
    }

    /** {@code kvm_mmu_free_roots(KVM_MMU_ROOTS_ALL)}. */
    private void freeRoots() {
        Platform.mmuLock(mmu.vm).lock();
        counting.inc(MmuCounter.MMU_LOCK);
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
            freePaeRoots();
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
    }

    /**
     * {@code kvm_mmu_new_cr3} then {@code kvm_mmu_load}: a cached root of this CR3 and role is
     * reused, an invalidated one is dropped, otherwise {@code kvm_mmu_get_page} makes one; the
     * old root goes to the cache. Then {@code kvm_mmu_sync_roots} and a local TLB flush (a
     * CR3 write without PCID flushes the TLB).
     */
    private void newRoot(long c3, boolean loadPdptrs) {
        // The new root is set under the MMU lock, the TLB flushed after it is let go: the
        // window tells the checker that the TLB may still hold the old root's translations.
        tlb.beginFlushWindow();
        try {
            if (nonpaging) {
                newDirectRoots(c3);
            } else if (mode != PagingMode.LONG) {
                newPaeRoots(c3, loadPdptrs);
            } else {
                newLongRoot(c3);
            }
        } finally {
            tlb.endFlushWindow();
        }
    }

    /** {@link #newRoot} for a 64-bit guest: the root cache of {@code kvm_mmu_new_cr3}. */
    private void newLongRoot(long c3) {
        int rootRole = Role.withAccess(Role.withLevel(baseRole, 4), Spte.ACC_ALL);
        long rootGfn = (c3 & Pte.bits(12, 51)) >>> 12;
        memoryCache.topup(); // mmu_topup_memory_caches, as kvm_mmu_load does first
        Platform.mmuLock(mmu.vm).lock();
        counting.inc(MmuCounter.MMU_LOCK);
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
            Platform.mmuLock(mmu.vm).unlock();
        }
        flushLocal();
    }

    /**
     * {@code kvm_set_cr3} and {@code mmu_alloc_shadow_roots} for a PAE or 32-bit guest (KVM keeps
     * no cache of such roots): a CR3 write loads the PDPTEs ({@code load_pdptrs}); the same CR3
     * with the same PDPTEs keeps the PAE root and only syncs it, as KVM's fast path does;
     * otherwise the 4 root pages are let go and got again ({@code kvm_mmu_get_page} finds
     * those that still exist). A 32-bit guest's entry i is its directory's quadrant i; a PAE
     * guest's is the directory its PDPTE i names. Then the roots are synced and the TLB flushed.
     */
    private void newPaeRoots(long c3, boolean loadPdptrs) {
        boolean changed = !rootLoaded || c3 != rootCr3 || rootInvalid();
        if (loadPdptrs && mode == PagingMode.PAE) {
            long table = mode.rootTable(c3);
            for (int i = 0; i < 4; i++) {
                long pdpte = mmu.vm.memory().read(table + 8L * i, 8);
                changed |= pdpte != pdptrs[i];
                pdptrs[i] = pdpte;
            }
        }
        memoryCache.topup(); // mmu_topup_memory_caches, as kvm_mmu_load does first
        Platform.mmuLock(mmu.vm).lock();
        counting.inc(MmuCounter.MMU_LOCK);
        try {
            if (changed) {
                freePaeRoots();
                for (int i = 0; i < 4; i++) {
                    paeRoot[i] = allocPaeRoot(i, c3);
                }
            }
            rootCr3 = c3;
            rootLoaded = true;
            syncRoots();
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
        flushLocal();
    }

    /**
     * With paging off: {@code kvm_mmu_new_cr3} frees the roots ({@code mmu_free_roots}) and
     * {@code kvm_mmu_load} makes them again with {@code mmu_alloc_direct_roots} at
     * {@code shadow_root_level} PT32E: entry i is the direct level-2 page of the identity map of
     * gva bits 31:30 = i (pseudo gfn {@code i << 18}, ACC_ALL), found again by
     * {@code kvm_mmu_get_page} if it still exists. Nothing to sync ({@code mmu_sync_roots}
     * returns for a direct map); the TLB is flushed. CR3 does not matter to the translation.
     */
    private void newDirectRoots(long c3) {
        memoryCache.topup(); // mmu_topup_memory_caches, as kvm_mmu_load does first
        Platform.mmuLock(mmu.vm).lock();
        counting.inc(MmuCounter.MMU_LOCK);
        try {
            freePaeRoots();
            for (int i = 0; i < 4; i++) {
                ShadowPage sp = mmu.getPage(this, (long) i << 18, (long) i << 30, 2, true, Spte.ACC_ALL);
                sp.rootCount++;
                paeRoot[i] = sp;
            }
            rootCr3 = c3;
            rootLoaded = true;
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
        flushLocal();
    }

    /** One entry of {@code mmu_alloc_shadow_roots}: a level-2 root page with ACC_ALL, or null. */
    private ShadowPage allocPaeRoot(int i, long c3) {
        long rootGfn;
        if (mode == PagingMode.PAE) {
            long pdpte = pdptrs[i];
            if ((pdpte & Pte.P) == 0
                    || mode.reservedBitsSet(pdpte, 3, false, mmu.vm.maxPhyAddr(), Role.nxe(baseRole)) != 0) {
                return null; // KVM's load_pdptrs refuses a bad PDPTE; the walk reports it here
            }
            rootGfn = mode.tableAddress(pdpte, 3) >>> 12;
        } else {
            rootGfn = mode.rootTable(c3) >>> 12;
        }
        if (mmu.vm.slotForGfn(rootGfn) == null) {
            return null; // mmu_check_root: nothing to shadow, every walk through it is emulated
        }
        ShadowPage sp = mmu.getPage(this, rootGfn, (long) i << 30, 2, false, Spte.ACC_ALL);
        sp.rootCount++;
        return sp;
    }

    /** The PAE root's half of {@code mmu_free_roots}. Caller holds the MMU lock. */
    private void freePaeRoots() {
        for (int i = 0; i < 4; i++) {
            if (paeRoot[i] != null) {
                mmu.putRoot(paeRoot[i]);
                paeRoot[i] = null;
            }
        }
    }

    /** {@code kvm_mmu_sync_roots}: the root, or each entry of the PAE root. Caller holds the MMU lock. */
    private void syncRoots() {
        if (nonpaging) {
            return; // a direct map has nothing to sync
        }
        if (root != null) {
            Sync.syncRoots(mmu, this, root);
        }
        for (ShadowPage p : paeRoot) {
            if (p != null && !p.invalid()) {
                Sync.syncRoots(mmu, this, p);
            }
        }
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
        for (ShadowPage p : paeRoot) {
            if (p != null) {
                out[n++] = p;
            }
        }
        return n;
    }

    int maxHeldRoots() {
        return prevRoot.length + 1 + paeRoot.length;
    }

    /** The CR3 the roots were loaded for, and whether they are loaded (for the checker). */
    long rootCr3() {
        return rootCr3;
    }

    boolean rootLoaded() {
        return rootLoaded;
    }

    /** The guest writes CR3 ({@code kvm_set_cr3}): new root or the same one synced, and a TLB flush. */
    public void writeCr3(long value) {
        meter.beginSupervisor();
        try {
            counting.inc(MmuCounter.EXITS);
            vcpu.set(Register.CR3, value);
            checkContext();
            newRoot(value, true);
        } finally {
            meter.end();
        }
    }

    /** Aggregated TLB hits ({@link org.shadowbox.mmu.GuestCpu#retire}): metered as accesses of that mode, nothing else. */
    @Override
    public void retire(long n, boolean user) {
        meter.retire(n, user);
    }

    /** The guest executes INVLPG ({@code kvm_mmu_invlpg}): {@code FNAME(invlpg)}, then a TLB flush. */
    @Override
    public void invlpg(long gva) {
        meter.beginSupervisor();
        try {
            enterGuest();
            counting.inc(MmuCounter.EXITS);
            counting.inc(MmuCounter.INVLPG);
            if (nonpaging) {
                flushLocal(); // nonpaging_invlpg does nothing; kvm_mmu_invlpg still flushes
                return;
            }
            gva = mode.truncate(gva);
            ShadowPage top = shadowWalkRoot(gva);
            if (top != null) {
                Platform.mmuLock(mmu.vm).lock();
                counting.inc(MmuCounter.MMU_LOCK);
                try {
                    Sync.invlpg(mmu, this, top, shadowWalkLevel(), gva);
                    mmu.commitZap();
                } finally {
                    Platform.mmuLock(mmu.vm).unlock();
                }
            }
            flushLocal();
        } finally {
            meter.end();
        }
    }

    /** {@code kvm_vcpu_flush_tlb}: this vCPU's TLB is emptied now. */
    public void flushLocal() {
        tlb.flush();
        counting.inc(MmuCounter.TLB_FLUSH);
    }

    // ---- guest accesses ----

    /**
     * The TLB-hit case of a read or an instruction fetch alone ({@link TlbHitPath}; {@code acc}
     * has {@link Pfec#USER} and {@link Pfec#FETCH} as asked, never {@link Pfec#WRITE}): the size
     * and page-cross test, the entry check (one load of the request word), the TLB part ({@code
     * hitEntry}) and the load; false, with nothing changed, when the general path ({@link #miss})
     * must do it. Every call in it is bound statically (this class is final) and nothing of the
     * general path is in it, so the code the JIT compiles for it stays small wherever it is
     * compiled first, and its callers inline it (docs/mmu.md, "What a TLB hit costs").
     */
    public boolean loadHit(long gva, int size, int acc, AccessResult out) {
        int off = (int) gva & 4095;
        int i;
        if (!TlbHitPath.fits(size, off) || !entryUnchanged() || (i = hitEntry(gva, acc)) < 0) {
            return false;
        }
        TlbHitPath.load(tlb.page(i), (tlb.gfn(i) << 12) | off, size, off, out);
        return true;
    }

    /**
     * The TLB-hit case of a store alone ({@code acc} with {@link Pfec#WRITE}), as {@link
     * #loadHit}, in guest mode from before the entry check until the bytes have landed ({@link
     * VcpuMode}; {@link TlbHitPath} says why), so that neither a remote flush nor a checker
     * holding the vCPU sees it half done.
     */
    public boolean storeHit(long gva, long value, int size, int acc, AccessResult out) {
        int off = (int) gva & 4095;
        if (!TlbHitPath.fits(size, off)) {
            return false;
        }
        VcpuMode.publishGuestMode(requests); // then the request word, once: entryUnchanged
        try {
            int i;
            if (!entryUnchanged() || (i = hitEntry(gva, acc)) < 0) {
                return false;
            }
            TlbHitPath.store(tlb.page(i), (tlb.gfn(i) << 12) | off, value, size, off, out);
            return true;
        } finally {
            VcpuMode.exitGuestMode(requests);
        }
    }

    @Override
    public VcpuRequests requests() {
        return requests;
    }

    /** {@link #access} for a caller that has just tried {@link #loadHit} or {@link #storeHit} in vain. */
    @Override
    public AccessResult miss(long gva, long value, int size, int acc, AccessResult out) {
        return access.miss(gva, value, size, acc, out);
    }

    /** {@link GuestAccess}: TLB, the hardware walk of the sptes, then the fault handler. */
    @Override
    public AccessResult access(long gva, long value, int size, int acc, AccessResult out) {
        return access.access(gva, value, size, acc, out);
    }

}
