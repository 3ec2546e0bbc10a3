package org.shadowbox.mmu.internal.tdp;

/**
 * The work done for one TDP vCPU, split by the guest mode that caused it, by the rule the
 * shadow MMU's {@code ExitMeter} follows (a guest's clock charges the time the hypervisor
 * spends on an exit to the mode it interrupted). A window opens where an access leaves the
 * processor's hands (a TDP violation exits; a paging-mode change or a flush request is served
 * before the access runs) or where a supervisor instruction flushes the TLB (CR3 load,
 * INVLPG: no exit under EPT, but the flush is work), and closes when the access or
 * instruction is done; the window's work is the change of this vCPU's counters and of the
 * VM-wide ones (TDP table pages made and zapped, remote flushes) meanwhile. The processor's
 * own refills (TLB misses and the guest and TDP entries its walk reads) are counted by mode
 * as they happen, and windows leave those counters out; a TLB hit is only counted as an
 * access.
 *
 * <p>TDP does less than shadow paging: no guest walk in software, no hash chain, no sync or
 * unsync, no pte-write handling. Those counters stay 0, and the cost model charges nothing
 * for them. Exact when one thread drives the VM's vCPUs, as {@code ExitMeter}.
 */
public final class TdpMeter {
    public static final int SUPERVISOR = 0;
    public static final int USER = 1;

    private final TdpVcpu v;
    private final TdpStats[] work = {new TdpStats(), new TdpStats()};
    private final long[] accesses = new long[2];
    private final long[] tlbMisses = new long[2];
    private final long[] tlbWalkSteps = new long[2];
    /** The guest mode of the access or instruction under way ({@link #USER} when true). */
    private boolean user;
    private boolean open;
    /** Scratch for {@link #end}. */
    private final TdpStats delta = new TdpStats();
    private final TdpStats vcpuBefore = new TdpStats();
    private final TdpStats vmBefore = new TdpStats();

    TdpMeter(TdpVcpu v) {
        this.v = v;
    }

    /** An access in guest mode {@code userMode} begins (counted). */
    void access(boolean userMode) {
        user = userMode;
        accesses[userMode ? USER : SUPERVISOR]++;
    }

    /** A TLB miss of the access under way (the processor's walk follows). */
    void tlbMiss() {
        tlbMisses[user ? USER : SUPERVISOR]++;
    }

    /** {@code steps} entries read by the processor's walk for the access under way. */
    void tlbWalkSteps(int steps) {
        tlbWalkSteps[user ? USER : SUPERVISOR] += steps;
    }

    /** Opens the window (once per access or instruction): snapshots the counters. */
    void begin() {
        if (open) {
            return;
        }
        open = true;
        vcpuBefore.addScaled(vcpuBefore, -1);
        vcpuBefore.add(v.stats);
        vmBefore.addScaled(vmBefore, -1);
        vmBefore.add(v.mmu.stats);
    }

    /** A supervisor instruction that does work outside an access (CR3 load, INVLPG). */
    void beginSupervisor() {
        if (!open) {
            user = false;
        }
        begin();
    }

    /** Closes the window, charging its work to the guest mode of the access. */
    void end() {
        if (!open) {
            return;
        }
        open = false;
        TdpStats d = delta;
        d.addScaled(d, -1);
        d.add(v.stats);
        d.addScaled(vcpuBefore, -1);
        d.add(v.mmu.stats);
        d.addScaled(vmBefore, -1);
        d.tlbMiss = 0; // counted by mode as they happen
        d.tlbWalkSteps = 0;
        work[user ? USER : SUPERVISOR].add(d);
    }

    /** A copy of the work charged to guest mode {@code userMode}. Read it from the vCPU's thread or after the run. */
    public TdpStats work(boolean userMode) {
        int m = userMode ? USER : SUPERVISOR;
        TdpStats w = work[m].copy();
        w.tlbMiss = tlbMisses[m];
        w.tlbWalkSteps = tlbWalkSteps[m];
        return w;
    }

    /** Guest memory accesses made in guest mode {@code userMode}. */
    public long accesses(boolean userMode) {
        return accesses[userMode ? USER : SUPERVISOR];
    }
}
