package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.shadow.ExitMeter;
import org.shadowbox.mmu.internal.shadow.GuestVcpu;
import org.shadowbox.mmu.internal.shadow.TlbHitPath;
import org.shadowbox.mmu.internal.shadow.VcpuMode;
import org.shadowbox.mmu.internal.shadow.VcpuRequests;
import org.shadowbox.mmu.internal.shadow.VmCounters;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.spi.Platform;
import org.shadowbox.vm.spi.PlatformVcpu;

/**
 * One vCPU under TDP: its TLB, the pending remote-flush request, and what the processor
 * does without an exit under EPT: CR3 loads and INVLPG flush the vCPU's own TLB, and a
 * change of CR0, CR4 or EFER (a paging-mode change) flushes it too. Memory accesses are
 * {@link TdpAccess}. Works in every guest paging mode (64-bit, PAE, 32-bit, paging off),
 * since the guest walks its own tables.
 *
 * <p>Driven by one thread at a time, as a KVM vCPU is. Other vCPUs only post requests.
 */
public final class TdpVcpu implements GuestVcpu {
    final TdpMmu mmu;
    final Vcpu vcpu;
    final TdpTlb tlb;
    /** This vCPU's work by the guest mode that caused it, for cost models: its counters and the VM's. */
    final ExitMeter<TdpStats> meter;
    /**
     * The block this vCPU counts into now ({@code vcpu->stat}'s place): one of its meter's three,
     * switched as exit windows open and close. Only its own thread changes it. Read a counter
     * with {@link #count}, which sums the three.
     */
    TdpStats counting;
    /** Set at the first entry: before it the vCPU never was in guest mode. */
    private volatile boolean entered;
    final GuestWalk walk = new GuestWalk();
    /**
     * Guest events after which no older TLB entry may survive (CR3 loads, INVLPG, paging-mode
     * changes): an entry filled before the last one is stale by definition (checker (f)).
     */
    long guestFlushes;
    private long cr0;
    private long cr3;
    private long cr4;
    private long efer;
    private boolean contextValid;
    /**
     * Run by {@link TdpMmu#leafLockless} each time it has read a link and before it reads the
     * child table: null (nothing) except in the test that zaps the table under the walk. Set
     * before the vCPU's thread runs.
     */
    Runnable duringWalk;
    /** The level of the leaf the last {@link TdpMmu#leafLockless} of this vCPU found. Its own thread only. */
    int walkLevel;
    /** The TDP entries the last {@link TdpMmu#leafLockless} of this vCPU read (1 to 4). Its own thread only. */
    int walkSteps;
    private final TdpAccess access = new TdpAccess(this);
    /** Pending requests and the vCPU's mode ({@link org.shadowbox.mmu.internal.shadow.VcpuMode}). */
    final VcpuRequests requests = new VcpuRequests();

    TdpVcpu(TdpMmu mmu, Vcpu vcpu, int tlbEntries) {
        this.mmu = mmu;
        this.meter = new ExitMeter<>(new CountersNow(), TdpStats::new);
        this.counting = meter.counting();
        this.vcpu = vcpu;
        VcpuRequests r = requests; // kvm_mmu_reset_context's place ({@link #entryUnchanged})
        r.make(VcpuRequests.CONTEXT_CHANGED); // never entered yet
        Platform.vcpu(vcpu).mmuContextHook(() -> r.make(VcpuRequests.CONTEXT_CHANGED));
        this.tlb = new TdpTlb(tlbEntries);
    }

    @Override
    public Vcpu vcpu() {
        return vcpu;
    }

    public TdpTlb tlb() {
        return tlb;
    }

    /** This vCPU's work by guest mode ({@link ExitMeter}). */
    public ExitMeter<TdpStats> meter() {
        return meter;
    }

    /**
     * This vCPU's {@code tlb_hit}: the general path's hits (its counter block) plus those of the
     * fast case, which the meter counts once as an access and a hit ({@link ExitMeter#hit}).
     */
    public long tlbHits() {
        return meter.ownCount(TdpCounter.TLB_HIT.ordinal()) + meter.hits();
    }

    /** This vCPU's counter {@code c} ({@link ExitMeter#ownCount}). */
    public long count(TdpCounter c) {
        return meter.ownCount(c.ordinal());
    }

    /**
     * The meter's window: this vCPU counts into the window's block; the VM block's counters are
     * copied (one run of 7, {@link VmCounters#setNow}) and subtracted only if one changed.
     */
    private final class CountersNow implements ExitMeter.Source<TdpStats> {
        /** The VM's counters when the window opened ({@link VmCounters#setNow}). */
        private final long[] before = mmu.stats.newSnapshot();

        @Override
        public void countInto(TdpStats block) {
            counting = block;
        }

        @Override
        public void snapshot() {
            mmu.stats.setNow(before);
        }

        @Override
        public void addSince(TdpStats into) {
            mmu.stats.addSince(before, into);
        }
    }

    /** CR4 as of the last entry (the guest's CR4 while {@link #entryUnchanged}). */
    long cr4() {
        return cr4;
    }

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

    /**
     * This vCPU's part of a remote flush ({@link TdpMmu#flushRemoteTlbs}): the request, and an
     * IPI if the vCPU is in guest mode (entered once, not in an exit of its own, not kicked already).
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

    /**
     * True if CR0, CR3, CR4 or EFER changed since the last access (set from outside, e.g. by
     * userspace): the TLB is flushed at the next entry, so until then it is as if a flush were pending.
     */
    public boolean contextChangePending() {
        return !contextValid || vcpu.get(Register.CR0) != cr0 || vcpu.get(Register.CR3) != cr3
                || vcpu.get(Register.CR4) != cr4 || vcpu.get(Register.EFER) != efer;
    }

    /**
     * True when {@link #enterGuest} has nothing to do: CR0, CR3, CR4 and EFER are those the
     * context was set up for and no request is pending. The TLB-hit fast path asks this instead:
     * one load of the request word, where a register write posts {@link
     * VcpuRequests#CONTEXT_CHANGED} ({@link PlatformVcpu#mmuContextHook}; as the shadow MMU's
     * {@code VcpuMmu.entryUnchanged}).
     */
    @Override
    public boolean entryUnchanged() {
        return requests.none();
    }

    /**
     * {@link TlbHitPath.Hit#hit}: the TDP TLB, its permission bits decided at fill time under
     * the CR0 and CR4 of the context ({@link #entryUnchanged}: unchanged since), with EFLAGS.AC
     * read only when CR4.SMAP makes it matter. On the vCPU, not on its {@code TdpAccess}: the
     * fast path reads only this object's fields and what they point to.
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
     * The TLB part of a hit: the lookup and the permission bit decided at fill time under this
     * context's CR0 and CR4 ({@code permission_fault}, EFLAGS.AC read only when CR4.SMAP makes it
     * matter); on a hit the access is counted (one count, the meter's {@link ExitMeter#hit}, read
     * as an access of its mode and as {@code tlb_hit}) and the slot returned, else -1 with nothing
     * changed.
     */
    private int hitEntry(long gva, int acc) {
        TdpTlb t = tlb;
        int i = t.lookup(gva >>> 12);
        if (i < 0 || !t.hitAllows(i, acc, (cr4 & Register.CR4_SMAP) != 0
                && (vcpu.get(Register.RFLAGS) & Register.RFLAGS_AC) != 0)) { // EFLAGS read only when it matters
            return -1;
        }
        meter.hit((acc & Pfec.USER) != 0); // the access and tlb_hit, one count (tlbHits)
        return i;
    }

    /** Before each access: a paging-control or CR3 change flushes, then pending requests are served. */
    void enterGuest() {
        requests.takeEntryChecks(); // before the registers: a write after this posts it again
        boolean seen = false;
        try {
            long c0 = vcpu.get(Register.CR0);
            long c3 = vcpu.get(Register.CR3);
            long c4 = vcpu.get(Register.CR4);
            long ef = vcpu.get(Register.EFER);
            if (c0 != cr0 || c3 != cr3 || c4 != cr4 || ef != efer || !contextValid) {
                tlb.beginUpdate(); // the new context counts as seen only with the flush done (the checker)
                try {
                    contextValid = true;
                    cr0 = c0;
                    cr3 = c3;
                    cr4 = c4;
                    efer = ef;
                    meter.begin();
                    guestFlush();
                } finally {
                    tlb.endUpdate();
                }
            }
            seen = true;
        } finally {
            if (!seen) {
                requests.make(VcpuRequests.CONTEXT_CHANGED); // the next entry looks again
            }
        }
        if (!entered) {
            // Set once: it never goes back to false, and a volatile store on every entry was a full fence
            // per entry (two per fault) that publishes nothing new.
            entered = true;
        }
        if (!requests.anyPosted()) {
            return;
        }
        // From before the take (it clears KVM_REQ_TLB_FLUSH) until the flush is done, nothing is
        // pending but the TLB may hold what TDP no longer maps: the window says so to the checker.
        tlb.beginUpdate();
        try {
            int req = requests.take();
            if ((req & VcpuRequests.TLB_FLUSH) != 0) {
                meter.begin();
                if ((req & VcpuRequests.KICKED) != 0) {
                    counting.inc(TdpCounter.IPI_EXITS); // the IPI's exit, paid on this vCPU's clock
                }
                flushLocal();
            }
        } finally {
            tlb.endUpdate();
        }
    }

    /** The guest flushes its TLB: counted, then done. The caller holds the TLB's update window. */
    private void guestFlush() {
        guestFlushes++;
        flushLocal();
    }

    /** The guest loads CR3: no exit under EPT; the processor flushes the TLB (no PCID modelled). */
    public void writeCr3(long value) {
        meter.beginSupervisor();
        try {
            tlb.beginUpdate();
            try {
                vcpu.set(Register.CR3, value);
                cr3 = value;
                guestFlush();
            } finally {
                tlb.endUpdate();
            }
        } finally {
            meter.end();
        }
    }

    /**
     * {@code mov} to a control register or EFER: CR3 as {@link #writeCr3}; the others are set
     * and a paging-mode change flushes the TLB at the next access.
     */
    public void writeRegister(Register r, long value) {
        if (r == Register.CR3) {
            writeCr3(value);
        } else {
            tlb.beginUpdate(); // the checker judges the TLB by these registers
            try {
                vcpu.set(r, value);
            } finally {
                tlb.endUpdate();
            }
        }
    }

    /** Aggregated TLB hits ({@link org.shadowbox.mmu.GuestCpu#retire}): metered as accesses of that mode, nothing else. */
    @Override
    public void retire(long n, boolean user) {
        meter.retire(n, user);
    }

    /**
     * The guest executes INVLPG: no exit under EPT. The processor may invalidate more than the
     * one page, and this model invalidates the whole TLB of the vCPU (as the shadow MMU's
     * {@code kvm_mmu_invlpg} path does): simpler, and a guest that changed a non-leaf entry
     * and invalidated one address of its range still sees the change everywhere.
     */
    @Override
    public void invlpg(long gva) {
        meter.beginSupervisor();
        try {
            enterGuest();
            counting.inc(TdpCounter.INVLPG);
            tlb.beginUpdate();
            try {
                guestFlush();
            } finally {
                tlb.endUpdate();
            }
        } finally {
            meter.end();
        }
    }

    /** {@code kvm_vcpu_flush_tlb}: this vCPU's TLB is emptied now. */
    public void flushLocal() {
        tlb.flush();
        counting.inc(TdpCounter.TLB_FLUSH);
    }

    /**
     * The TLB-hit case of a read or an instruction fetch alone ({@link TlbHitPath}, with no vCPU mutex; {@code acc}
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
     * holding the vCPU ({@link #holdStoreHits}) sees it half done: no mutex.
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

    /**
     * The checker holds this vCPU ({@code kvm_lock_all_vcpus}; its mutex already taken): a store
     * that hits the TLB takes no mutex, so it is kept out the way a remote flush keeps out a
     * store through a translation it removed ({@link VcpuMode}): the word is set with a full
     * fence, then the checker waits until the vCPU is not in guest mode. A store hit enters
     * guest mode, fences, then reads the word: either it sees {@link VcpuRequests#HELD} and
     * falls back to the path that waits for the mutex, or the wait here sees it in guest mode
     * and lasts until its store has landed. Either way the checker sees no store half done,
     * and none begins before {@link #releaseStoreHits}.
     */
    @Override
    public void holdStoreHits() {
        requests.hold();
        VcpuMode.waitForVcpu(requests);
    }

    @Override
    public void releaseStoreHits() {
        requests.release();
    }

    /** {@code TdpAccess}: TLB, the guest's walk and the TDP walk, then the TDP fault handler. */
    @Override
    public AccessResult access(long gva, long value, int size, int acc, AccessResult out) {
        return access.access(gva, value, size, acc, out);
    }
}
