package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.pagetrack.spi.MmuPageTrack;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;

/**
 * The shadow MMU of one VM ({@code kvm->arch} and {@code arch/x86/kvm/mmu.c}, 2016): shadow
 * pages by (gfn, role), reverse maps, {@code kvm_mmu_get_page} with
 * {@code account_shadowed}, linking and unsync marking, the zap protocol and the write
 * protection that page track asks for. The fault path is {@link PageFault}, resync is
 * {@link Sync}, sptes are set by {@link SetSpte}; each vCPU has a {@link VcpuMmu}.
 *
 * <p>Locking: every method that changes shadow state runs with {@code kvm->mmu_lock} held
 * ({@code kvm->mmu_lock}); the public entry points take it themselves.
 */
public final class ShadowMmu {
    /** KVM_MIN_FREE_MMU_PAGES. */
    static final int MIN_FREE_MMU_PAGES = 5;
    /** KVM_REFILL_PAGES. */
    static final int REFILL_PAGES = 25;
    /** KVM_MIN_ALLOC_MMU_PAGES. */
    static final int MIN_ALLOC_MMU_PAGES = 64;
    /** KVM_PERMILLE_MMU_PAGES. */
    static final int PERMILLE_MMU_PAGES = 20;

    final Vm vm;
    final MmuPageTrack pageTrack;
    /** How shadowed guest page tables stay write-protected: page track or the legacy walk. */
    final WriteProtectPolicy policy;
    final MmuPages pages = new MmuPages();
    final Rmap rmap = new Rmap();
    /** The VM-wide counters (vCPU counters live in each {@link VcpuMmu}). */
    final VmCounters<MmuCounter, MmuStats> stats = new VmCounters<>(MmuCounter.class);
    /** {@code kvm->arch.indirect_shadow_pages}. */
    int indirectShadowPages;
    /** {@code kvm->arch.n_max_mmu_pages}. */
    private int maxMmuPages;
    private final VcpuMmu[] vcpus;
    /** Each vCPU's request word and mode, for the remote flush's wait ({@link VcpuMode}). */
    private final VcpuRequests[] vcpuRequests;
    /** Where emulated writes to shadowed page tables come in ({@code kvm_mmu_pte_write}'s callers). */
    final PteWrites pteWrites;
    private int[] invalidList = new int[16];
    private int invalidCount;

    /**
     * @param pageTrack  page track as the MMU's own owner
     * @param tlbEntries TLB entries per vCPU (a power of two)
     * @param prevRoots  cached roots per vCPU besides the current one (KVM_MMU_NUM_PREV_ROOTS is 3)
     */
    public ShadowMmu(Vm vm, MmuPageTrack pageTrack, int tlbEntries, int prevRoots) {
        this.vm = vm;
        this.pageTrack = pageTrack;
        this.policy = WriteProtectPolicy.of(vm);
        this.maxMmuPages = defaultMaxMmuPages(vm);
        this.vcpus = new VcpuMmu[vm.vcpuCount()];
        for (int i = 0; i < vcpus.length; i++) {
            vcpus[i] = new VcpuMmu(this, vm.vcpu(i), tlbEntries, prevRoots);
        }
        this.pteWrites = new PteWrites(this);
        this.vcpuRequests = new VcpuRequests[vcpus.length];
        for (int i = 0; i < vcpus.length; i++) {
            vcpuRequests[i] = vcpus[i].requests;
        }
    }

    /**
     * {@code kvm_mmu_calculate_mmu_pages}: 20 per mille of guest pages, at least 64. KVM counts
     * every page of every memslot, as its guest memory is all there; Shadowbox's is sparse (a
     * page is host memory once written) and bounded by the VM's memory budget, so it counts at
     * most the pages the budget lets the VM make resident (its own, else the sandbox's, when the
     * limit is computed: at creation and after each slot change). A VM that declares 1 TiB
     * under a 128 MiB budget gets 655 shadow pages, not 5.4 million (21 GiB of host memory).
     */
    public static int defaultMaxMmuPages(Vm vm) {
        long pagesTotal = 0;
        for (Memslot s : vm.memslots()) {
            pagesTotal += s.npages();
        }
        org.shadowbox.vm.MemoryBudget b = vm.memoryBudget();
        pagesTotal = Math.min(pagesTotal, Math.min(b.vmLimitBytes(), b.sandboxLimitBytes()) >>> 12);
        return (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_ALLOC_MMU_PAGES, pagesTotal * PERMILLE_MMU_PAGES / 1000));
    }

    public Vm vm() {
        return vm;
    }

    public VcpuMmu vcpu(int id) {
        return vcpus[id];
    }

    public int vcpuCount() {
        return vcpus.length;
    }

    /** {@code kvm_mmu_change_mmu_pages}: the page limit; recycles down to it at the next fault. */
    public void setMaxMmuPages(int n) {
        if (n < MIN_ALLOC_MMU_PAGES / 16) {
            throw new org.shadowbox.vm.VmException("bad shadow page limit " + n + ": accepted at least "
                    + (MIN_ALLOC_MMU_PAGES / 16));
        }
        maxMmuPages = n;
    }

    public int maxMmuPages() {
        return maxMmuPages;
    }

    /** {@code n_used_mmu_pages} now and its high-water mark since the VM was made: {@code {used, peak}}. Takes the MMU lock. */
    public int[] usedMmuPages() {
        Platform.mmuLock(vm).lock();
        try {
            return new int[] {pages.used(), pages.peakUsed()};
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }

    /** The VM's counters plus every vCPU's, as one snapshot. */
    public MmuStats stats() {
        MmuStats s = new MmuStats();
        Platform.mmuLock(vm).lock();
        try {
            stats.addTo(s);
            s.add(MmuCounter.HASH_CHAIN_STEPS, pages.hashChainSteps);
            s.add(MmuCounter.HASH_LOOKUPS, pages.hashLookups);
        } finally {
            Platform.mmuLock(vm).unlock();
        }
        for (VcpuMmu v : vcpus) {
            v.meter.addOwn(s);
            s.add(MmuCounter.TLB_HIT, v.meter.hits()); // the fast case's hits: counted once, by the meter
        }
        return s;
    }

    /** The live shadow pages, newest first (for the checker and the shell). Takes the MMU lock. */
    public List<ShadowPage> shadowPages() {
        Platform.mmuLock(vm).lock();
        try {
            return shadowPagesLocked();
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }

    /** {@link #shadowPages()} for a caller that holds the MMU lock. */
    public List<ShadowPage> shadowPagesLocked() {
        assertMmuLockHeld();
        List<ShadowPage> out = new ArrayList<>();
        for (ShadowPage sp = pages.newest(); sp != null; sp = pages.older(sp)) {
            out.add(sp);
        }
        return out;
    }

    /** The shadow page with that id (a non-leaf spte's child); read it with the MMU lock held. */
    public ShadowPage page(int id) {
        return pages.get(id);
    }

    /** {@link #page} for a walker between {@link VcpuMode#beginLockless} and {@link VcpuMode#endLockless}. */
    ShadowPage pageLockless(int id) {
        return pages.getLockless(id);
    }

    // ---- kvm_mmu_get_page and accounting ----

    /**
     * {@code kvm_mmu_get_page}: the valid page of (gfn, role) or a new one. A hit clears its
     * flood count and, if it is unsync, syncs it ({@code kvm_sync_page_transient}). A miss
     * counts {@code mmu_cache_miss}, accounts an indirect page, write-protects the gfn of a
     * new level-1 page and syncs the gfn's unsync pages when a higher-level page appears.
     */
    ShadowPage getPage(VcpuMmu v, long gfn, int level, boolean direct, int access) {
        return getPage(v, gfn, 0, level, direct, access);
    }

    /**
     * {@code kvm_mmu_get_page} with the guest address it is got for: a 32-bit guest's tables
     * have 1024 4-byte entries, so each is shadowed by several 512-entry pages told apart by
     * {@code role.quadrant}: the part of the guest table that {@code gaddr} falls in (bit 21 for
     * a level-1 page, bits 31:30 for a level-2 page). Other modes have quadrant 0, and the
     * 5-argument form (gaddr 0) serves them.
     */
    ShadowPage getPage(VcpuMmu v, long gfn, long gaddr, int level, boolean direct, int access) {
        int role = Role.withAccess(Role.withLevel(v.baseRole, level), access);
        if (direct) {
            role = (role | Role.DIRECT) & ~Role.CR4_PAE;
        }
        if (v.mode == PagingMode.BITS32) {
            role = Role.withQuadrant(role, Role.quadrantOf(gaddr, level));
        }
        boolean needSync = false;
        for (ShadowPage sp = pages.first(gfn); sp != null; sp = pages.next(sp)) {
            if (sp.gfn != gfn || sp.invalid()) {
                continue;
            }
            if (sp.unsync) {
                needSync = true;
            }
            if (sp.role != role) {
                continue;
            }
            if (sp.unsync && Sync.syncPageTransient(this, v, sp)) {
                break; // zapped: make a fresh one
            }
            if (sp.unsyncChildren > 0) {
                v.requestMmuSync();
            }
            sp.writeFloodingCount = 0;
            return sp;
        }
        stats.inc(MmuCounter.MMU_CACHE_MISS);
        ShadowPage sp = pages.alloc(gfn, role, v.memoryCache);
        if (!direct) {
            accountShadowed(sp);
            if (policy.rmapWriteProtectOnCreate(level) && slotGfnWriteProtect(gfn)) {
                flushRemoteTlbs();
            }
            if (level > 1 && needSync) {
                Sync.syncPages(this, v, gfn);
            }
        }
        return sp;
    }

    /**
     * {@code account_shadowed}: under page track a non-leaf indirect page write-tracks its gfn
     * (which write-protects the gfn's sptes) and a leaf page only disallows large pages; under
     * the legacy policy every page disallows large pages ({@link WriteProtectPolicy}).
     */
    private void accountShadowed(ShadowPage sp) {
        indirectShadowPages++;
        policy.accountShadowed(this, sp);
    }

    /** {@code unaccount_shadowed}: the mirror of {@link #accountShadowed}. */
    private void unaccountShadowed(ShadowPage sp) {
        indirectShadowPages--;
        policy.unaccountShadowed(this, sp);
    }

    /**
     * {@code link_shadow_page}: points the spte at {@code child}, records the parent and, if
     * the child has unsync pages below it, marks the new path ({@code kvm_mmu_mark_parents_unsync}).
     */
    void linkShadowPage(ShadowPage parent, int index, ShadowPage child) {
        long sptep = ShadowPage.sptep(parent.id, index);
        parent.setSpte(index, Spte.makeNonLeaf(child.id)); // release: the child is fully built before a walker can reach it
        child.addParent(sptep);
        if (child.unsync || child.unsyncChildren > 0) {
            markUnsync(sptep);
        }
    }

    /** {@code mark_unsync}: sets the bit of {@code sptep} in its page and propagates upwards once. */
    private void markUnsync(long sptep) {
        ShadowPage p = pages.get(ShadowPage.sptepPage(sptep));
        if (!p.setUnsyncChild(ShadowPage.sptepIndex(sptep)) || p.unsyncChildren > 1) {
            return;
        }
        for (int i = 0; i < p.parentCount; i++) {
            markUnsync(p.parentPtes[i]);
        }
    }

    /**
     * {@code mmu_need_write_protect}, as the policy decides it: true if the gfn must stay
     * read-only; otherwise the gfn's leaf shadow pages are marked unsync, unless unsyncing is
     * not allowed.
     */
    boolean needWriteProtect(Vcpu vcpu, long gfn, boolean canUnsync) {
        return policy.needWriteProtect(this, vcpu, gfn, canUnsync);
    }

    /** {@code kvm_unsync_page}: the guest may write this leaf table directly until the next resync. */
    void unsyncPage(ShadowPage sp) {
        stats.inc(MmuCounter.MMU_UNSYNC);
        stats.inc(MmuCounter.UNSYNC_MARKED);
        sp.unsync = true;
        for (int i = 0; i < sp.parentCount; i++) {
            markUnsync(sp.parentPtes[i]);
        }
    }

    /** {@code kvm_unlink_unsync_page}. */
    void unlinkUnsync(ShadowPage sp) {
        sp.unsync = false;
        stats.add(MmuCounter.MMU_UNSYNC, -1);
    }

    // ---- dropping sptes ----

    /** {@code drop_spte}: clears a leaf and forgets it in the rmap. The caller flushes. */
    void dropSpte(ShadowPage sp, int index) {
        long old = sp.spt[index];
        sp.setSpte(index, 0);
        if (Spte.isPresent(old)) {
            rmap.remove(sp.gfnAt(index), sp.level(), ShadowPage.sptep(sp.id, index));
        }
    }

    /** {@code drop_parent_pte}: unlinks the child named by a non-leaf spte. The caller flushes. */
    void dropParentPte(ShadowPage parent, int index) {
        ShadowPage child = pages.get(Spte.childId(parent.spt[index]));
        child.removeParent(ShadowPage.sptep(parent.id, index));
        parent.setSpte(index, 0);
        parent.clearUnsyncChild(index);
    }

    /** {@code mmu_page_zap_pte}: drops a leaf or unlinks a child; true if an spte was present. */
    boolean zapPte(ShadowPage sp, int index) {
        long spte = sp.spt[index];
        if (!Spte.isPresent(spte)) {
            return false;
        }
        if (Spte.isLast(spte, sp.level())) {
            dropSpte(sp, index);
        } else {
            dropParentPte(sp, index);
        }
        return true;
    }

    /** {@code drop_large_spte}: a large spte in the way of a table is dropped, with a remote flush. */
    void dropLargeSpte(ShadowPage sp, int index) {
        long spte = sp.spt[index];
        if (sp.level() > 1 && Spte.isPresent(spte) && Spte.isLarge(spte)) {
            dropSpte(sp, index);
            flushRemoteTlbs();
        }
    }

    // ---- zap: kvm_mmu_prepare_zap_page / kvm_mmu_commit_zap_page ----

    /**
     * {@code kvm_mmu_prepare_zap_page}: zaps the unsync pages below, drops every spte of the
     * page, unlinks it from its parents, unaccounts it and marks it invalid. A page that a
     * root holds stays (invalid, at the head of the active list) until its last root lets
     * go; the others wait on the invalid list for {@link #commitZap}.
     *
     * @return pages put on the invalid list
     */
    int prepareZap(ShadowPage sp) {
        boolean wasValid = !sp.invalid();
        if (wasValid) {
            stats.inc(MmuCounter.MMU_SHADOW_ZAPPED);
        }
        int ret = zapUnsyncChildren(sp);
        for (int i = 0; i < Spte.ENTRIES; i++) {
            zapPte(sp, i);
        }
        while (sp.parentCount > 0) {
            long parent = sp.parentPtes[sp.parentCount - 1];
            dropParentPte(pages.get(ShadowPage.sptepPage(parent)), ShadowPage.sptepIndex(parent));
        }
        if (wasValid && !sp.direct()) {
            unaccountShadowed(sp);
        }
        if (sp.unsync) {
            unlinkUnsync(sp);
        }
        sp.role |= Role.INVALID;
        if (sp.rootCount == 0) {
            if (!onInvalidList(sp.id)) {
                if (invalidCount == invalidList.length) {
                    invalidList = Arrays.copyOf(invalidList, invalidCount * 2);
                }
                invalidList[invalidCount++] = sp.id;
                ret++;
            }
        } else {
            pages.moveToHead(sp);
            reloadRemoteMmus(); // after the page is marked invalid: the vCPU that takes the request sees it
        }
        return ret;
    }

    /**
     * {@code kvm_reload_remote_mmus}: a page some vCPU holds as a root was zapped, so every vCPU
     * looks at its roots at its next entry ({@link VcpuRequests#MMU_RELOAD}; no IPI is modelled
     * for it: the remote flush that follows the zap sends those). Caller holds the MMU lock.
     */
    private void reloadRemoteMmus() {
        for (VcpuMmu v : vcpus) {
            v.requests.make(VcpuRequests.MMU_RELOAD);
        }
    }

    private boolean onInvalidList(int id) {
        for (int i = 0; i < invalidCount; i++) {
            if (invalidList[i] == id) {
                return true;
            }
        }
        return false;
    }

    /** {@code mmu_zap_unsync_children}: the unsync pages below {@code parent} would be lost, so they go too. */
    private int zapUnsyncChildren(ShadowPage parent) {
        if (parent.level() == 1 || parent.unsyncChildren == 0) {
            return 0;
        }
        int zapped = 0;
        for (int i = 0; i < Spte.ENTRIES; i++) {
            if (!parent.unsyncChild(i)) {
                continue;
            }
            long spte = parent.spt[i];
            if (!Spte.isPresent(spte) || Spte.isLast(spte, parent.level())) {
                parent.clearUnsyncChild(i);
                continue;
            }
            ShadowPage child = pages.get(Spte.childId(spte));
            if (child.unsync) {
                zapped += prepareZap(child);
            } else {
                zapped += zapUnsyncChildren(child);
                if (child.unsyncChildren == 0) {
                    parent.clearUnsyncChild(i);
                }
            }
        }
        return zapped;
    }

    /**
     * {@code kvm_mmu_commit_zap_page}: one remote flush, which also waits out the lockless walks
     * ({@link VcpuMode}: their grace period), then the invalid pages are freed.
     */
    void commitZap() {
        if (invalidCount == 0) {
            return;
        }
        flushRemoteTlbs();
        for (int i = 0; i < invalidCount; i++) {
            pages.free(pages.get(invalidList[i]));
        }
        invalidCount = 0;
    }

    /** A root's last holder let go: an invalid root is freed now ({@code mmu_free_root_page}). */
    void putRoot(ShadowPage root) {
        root.rootCount--;
        if (root.rootCount == 0 && root.invalid()) {
            prepareZap(root);
            commitZap();
        }
    }

    /** {@code kvm_mmu_zap_all}: every page goes (a memslot is deleted or moved). Takes the MMU lock. */
    public void zapAll() {
        Platform.mmuLock(vm).lock();
        try {
            for (ShadowPage sp = pages.newest(); sp != null; sp = pages.older(sp)) {
                if (!sp.invalid()) {
                    prepareZap(sp);
                }
            }
            commitZap();
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }

    /**
     * {@code make_mmu_pages_available}: below {@link #MIN_FREE_MMU_PAGES} free, zaps the
     * oldest pages ({@code prepare_zap_oldest_mmu_page}, stat {@code mmu_recycled}) until
     * {@link #REFILL_PAGES} are free or nothing more can go.
     */
    void makeMmuPagesAvailable() {
        if (maxMmuPages - pages.used() >= MIN_FREE_MMU_PAGES) {
            return;
        }
        for (int tries = pages.used(); tries > 0 && maxMmuPages - pages.used() < REFILL_PAGES; tries--) {
            ShadowPage oldest = pages.oldest();
            if (oldest == null) {
                break;
            }
            prepareZap(oldest);
            commitZap();
            stats.inc(MmuCounter.MMU_RECYCLED);
        }
    }

    // ---- page track's hook: kvm_mmu_slot_gfn_write_protect, kvm_flush_remote_tlbs ----

    /**
     * {@code kvm_mmu_slot_gfn_write_protect}: every spte mapping {@code gfn}, at every level
     * (the 4K sptes and the large sptes over it), loses W and {@code SPTE_MMU_WRITEABLE}.
     *
     * @return true if an spte changed
     */
    boolean slotGfnWriteProtect(long gfn) {
        boolean changed = false;
        for (int level = 1; level <= Memslot.LEVEL_1G; level++) {
            long[] sptes = rmap.sptes(gfn, level);
            int n = rmap.count(gfn, level);
            for (int j = 0; j < n; j++) {
                ShadowPage sp = pages.get(ShadowPage.sptepPage(sptes[j]));
                int idx = ShadowPage.sptepIndex(sptes[j]);
                long spte = sp.spt[idx];
                if ((spte & (Spte.WRITABLE | Spte.MMU_WRITEABLE)) != 0) {
                    sp.setSpte(idx, spte & ~(Spte.WRITABLE | Spte.MMU_WRITEABLE));
                    changed = true;
                }
            }
        }
        if (changed) {
            stats.inc(MmuCounter.GFN_WRITE_PROTECT);
        }
        return changed;
    }

    /** {@code kvm_flush_remote_tlbs}: a TLB-flush request to every vCPU, served before its next access. */
    void flushRemoteTlbs() {
        long t0 = FlushWaitStats.STATS ? System.nanoTime() : 0; // the diagnostic mode: measures, decides nothing
        stats.inc(MmuCounter.REMOTE_TLB_FLUSH);
        boolean ipi = false;
        for (VcpuMmu v : vcpus) {
            stats.inc(MmuCounter.REMOTE_FLUSH_REQUESTS);
            ipi |= v.requestRemoteTlbFlush();
        }
        if (ipi) {
            stats.inc(MmuCounter.REMOTE_FLUSH_IPIS); // sent together; the requester waits for the slowest ack
        }
        if (!FlushWaitStats.STATS) {
            VcpuMode.waitForVcpus(vcpuRequests); // no vCPU still walks or stores through what was flushed
            return;
        }
        long t1 = System.nanoTime();
        VcpuMode.waitForVcpus(vcpuRequests);
        FlushWaitStats.flushed(t1 - t0, System.nanoTime() - t1);
    }

    // ---- writes to shadowed page tables ----

    /**
     * The legacy policy's direct call of {@code kvm_mmu_pte_write} from the emulator, after the
     * write landed in guest memory: the bound pte-write handler, or the fallback. Takes the MMU
     * lock. (Under the pagetrack policy writes come through the notifiers instead.)
     */
    public void pteWrite(int vcpuId, long gpa, long value, int bytes) {
        pteWrites.direct(vcpuId, gpa, value, bytes);
    }

    /**
     * Emulated writes processed so far by {@code kvm_mmu_pte_write}, by whichever route the
     * VM's policy gives (the handler or the fallback): one per emulated write of the VM.
     */
    public long pteWritesProcessed() {
        Platform.mmuLock(vm).lock();
        try {
            return pteWrites.processed;
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }

    /**
     * The MMU's own answer to an emulated write while no write-flood policy is bound: every
     * indirect shadow page of the written gfn is zapped (stat
     * {@code mmu_pte_write_fallback_zapped}), so the shadow never disagrees with the guest.
     * Returns at once when no indirect page exists, as {@code kvm_mmu_pte_write} does. The
     * caller holds the MMU lock.
     */
    void trackWriteFallbackLocked(long gpa) {
        assertMmuLockHeld();
        if (indirectShadowPages == 0) {
            return;
        }
        long gfn = gpa >>> 12;
        boolean seen = false;
        for (ShadowPage sp = pages.first(gfn); sp != null; sp = pages.next(sp)) {
            if (sp.gfn != gfn || sp.direct() || sp.invalid()) {
                continue;
            }
            seen = true;
            prepareZap(sp);
            stats.inc(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED);
        }
        if (seen) {
            stats.inc(MmuCounter.MMU_PTE_WRITE_FALLBACK);
            commitZap();
        }
    }

    /**
     * {@code lockdep_assert_held(&kvm->mmu_lock)}: fails (with assertions on, as in every test)
     * when the calling thread does not hold this VM's MMU lock.
     */
    void assertMmuLockHeld() {
        assert Platform.mmuLock(vm).isHeldByCurrentThread() : "mmu_lock of VM " + vm.name() + " not held";
    }
}
