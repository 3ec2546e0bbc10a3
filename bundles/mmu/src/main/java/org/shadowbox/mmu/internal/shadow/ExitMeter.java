package org.shadowbox.mmu.internal.shadow;

/**
 * The work done for one vCPU's exits, split by the guest mode that took them (a guest's clock
 * charges the time the hypervisor spends on an exit to the mode it interrupted): for the cost
 * model of issue 5. An exit window opens where the access leaves the fast path (TLB miss, a
 * request or root change before entry, a CR3 or INVLPG exit) and closes when the access or
 * instruction is done; the window's work is the change of this vCPU's counters and of the
 * VM-wide ones (shadow pages, zaps, hash chain steps, remote flushes) meanwhile. A TLB hit opens
 * no window and costs one array increment (the access count by mode).
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
        MmuStats w = work[user ? USER : SUPERVISOR];
        w.add(v.stats);
        w.addScaled(vcpuBefore, -1);
        w.add(v.mmu.stats);
        w.addScaled(vmBefore, -1);
        w.hashChainSteps += v.mmu.pages.hashChainSteps - hashBefore;
    }

    /** A copy of the work charged to guest mode {@code user}. Read it from the vCPU's thread or after the run. */
    public MmuStats work(boolean userMode) {
        return work[userMode ? USER : SUPERVISOR].copy();
    }

    /** Guest memory accesses made in guest mode {@code user}. */
    public long accesses(boolean userMode) {
        return userMode ? userAccesses : supervisorAccesses;
    }
}
