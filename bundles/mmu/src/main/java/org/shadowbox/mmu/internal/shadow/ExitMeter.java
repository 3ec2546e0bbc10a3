package org.shadowbox.mmu.internal.shadow;

/**
 * The work done for one vCPU's exits, split by the guest mode that took them (a guest's clock
 * charges the time the hypervisor spends on an exit to the mode it interrupted): for the cost
 * model of issue 5. An exit window opens where the access leaves the processor's hands (the
 * #PF exit, a request or root change before entry, a CR3 or INVLPG exit) and closes when the
 * access or instruction is done; the window's work is the change of this vCPU's counters and of
 * the VM-wide ones (shadow pages, zaps, hash chain steps, remote flushes) meanwhile. The
 * processor's own work, TLB misses and the entries its walker reads, is counted by mode as it
 * happens (inside a window too, so windows leave those two counters out); a TLB hit costs one
 * counter increment (the access count by mode).
 *
 * <p>Exact when one thread drives the VM's vCPUs (the guest model's scheduler does). With vCPUs
 * on several threads the totals stay right, but VM-wide work done during overlapping windows
 * would be charged to each of them; the per-vCPU counters are always exact.
 */
public final class ExitMeter {
    public static final int SUPERVISOR = 0;
    public static final int USER = 1;

    private final VcpuMmu v;
    /** Work by guest mode ({@link #SUPERVISOR}, {@link #USER}). */
    private final MmuStats[] work = {new MmuStats(), new MmuStats()};
    /** Guest memory accesses in user mode, every one (TLB hits included). */
    private long userAccesses;
    /** The same in supervisor mode. */
    private long supervisorAccesses;
    /** The guest mode of the access or instruction under way ({@link #USER} when true). */
    private boolean user;
    private boolean open;
    private final long[] tlbMisses = new long[2];
    private final long[] tlbWalkSteps = new long[2];
    /** Scratch for {@link #end}. */
    private final MmuStats delta = new MmuStats();
    private final MmuStats vcpuBefore = new MmuStats();
    private final MmuStats vmBefore = new MmuStats();
    private long hashBefore;

    ExitMeter(VcpuMmu v) {
        this.v = v;
    }

    /** An access in guest mode {@code user} begins (counted). */
    void access(boolean userMode) {
        user = userMode;
        if (userMode) {
            userAccesses++;
        } else {
            supervisorAccesses++;
        }
    }

    /** A TLB miss of the access under way (the processor's walk follows). */
    void tlbMiss() {
        tlbMisses[user ? USER : SUPERVISOR]++;
    }

    /** One entry read by the processor's walk for the access under way. */
    void tlbWalkStep() {
        tlbWalkSteps[user ? USER : SUPERVISOR]++;
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
        hashBefore = v.mmu.pages.hashChainSteps;
    }

    /** A supervisor instruction that exits (CR3 write, INVLPG): the window opens at once. */
    void beginSupervisorExit() {
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
        MmuStats d = delta;
        d.addScaled(d, -1);
        d.add(v.stats);
        d.addScaled(vcpuBefore, -1);
        d.add(v.mmu.stats);
        d.addScaled(vmBefore, -1);
        d.hashChainSteps += v.mmu.pages.hashChainSteps - hashBefore;
        d.tlbMiss = 0; // counted by mode as they happen
        d.tlbWalkSteps = 0;
        work[user ? USER : SUPERVISOR].add(d);
    }

    /** A copy of the work charged to guest mode {@code user}. Read it from the vCPU's thread or after the run. */
    public MmuStats work(boolean userMode) {
        int m = userMode ? USER : SUPERVISOR;
        MmuStats w = work[m].copy();
        w.tlbMiss = tlbMisses[m];
        w.tlbWalkSteps = tlbWalkSteps[m];
        return w;
    }

    /** Guest memory accesses made in guest mode {@code user}. */
    public long accesses(boolean userMode) {
        return userMode ? userAccesses : supervisorAccesses;
    }
}
