package org.shadowbox.mmu.internal.shadow;

import java.util.function.Supplier;

/**
 * The work done for one vCPU's exits, split by the guest mode that took them (a guest's clock
 * charges the time the hypervisor spends on an exit to the mode it interrupted): for the cost
 * model of issue 5. One meter for both MMUs; {@code S} is the MMU's counter type
 * ({@link MmuStats}, or the TDP MMU's) and the MMU says through a {@link Source} which of its
 * counters a window measures.
 *
 * <p>A window opens where the access leaves the processor's hands (a #PF exit or TDP
 * violation, a request or root change served before entry, a CR3 or INVLPG exit, and under
 * TDP a CR3 load or INVLPG that flushes without an exit) and closes when the access or
 * instruction is done; the window's work is the change of this vCPU's counters and of the
 * VM-wide ones (shadow or TDP table pages made and zapped, hash chain steps, remote flushes)
 * meanwhile. The processor's own work, TLB misses and the entries its walker reads, is
 * counted by mode as it happens (inside a window too, so windows leave those two counters
 * out); a TLB hit that the processor's fast case serves costs one counter increment ({@link
 * #hit}: the access and the hit, counted once by mode, and read as both).
 *
 * <p>Exact when one thread drives the VM's vCPUs (the guest model's scheduler does). With vCPUs
 * on several threads the totals stay right, but VM-wide work done during overlapping windows
 * would be charged to each of them; the per-vCPU counters are always exact. Nothing is
 * allocated after construction.
 *
 * @param <S> the MMU's counters
 */
public final class ExitMeter<S extends ExitMeter.Counters<S>> {
    public static final int SUPERVISOR = 0;
    public static final int USER = 1;

    /** What the meter needs of an MMU's counter type. */
    public interface Counters<S> {
        /** Adds {@code o}'s counters to these. */
        void add(S o);

        /** Adds {@code k} times {@code o}'s counters to these ({@code a.addScaled(a, -1)} clears {@code a}). */
        void addScaled(S o, long k);

        /** Sets these counters to {@code a + b}, counter by counter: one pass, no clear before it. */
        void setSum(S a, S b);

        /** Adds {@code a + b - base} to these counters, counter by counter: one pass. */
        void addSumMinus(S a, S b, S base);

        /** A new instance with the same counts. */
        S copy();

        /** Sets the processor's refill counters, which the meter keeps by mode itself. */
        void setRefills(long tlbMisses, long tlbWalkSteps);
    }

    /**
     * The counters a window measures: the vCPU's and the VM-wide ones. Both methods overwrite
     * {@code into}, each in one pass over the counters (a window opens and closes on every
     * exit, so the meter's own cost is on the fault path: see the benchmarks doc).
     */
    public interface Source<S> {
        /** Sets {@code into} to the counters as they are now. */
        void setNow(S into);

        /** Adds the counters as they are now minus {@code before} to {@code into}. */
        void addSince(S before, S into);
    }

    private final Source<S> source;
    /** Work by guest mode ({@link #SUPERVISOR}, {@link #USER}). */
    private final S[] work;
    /**
     * The per-mode counts kept on every access, in one array padded like a {@link CounterBlock}
     * (no false sharing with another vCPU's meter): guest memory accesses by mode, every one (TLB
     * hits included), at {@link #ACCESSES} (those of the general path and retired ones) plus
     * {@link #HITS} (those the TLB-hit fast case served); TLB misses at {@link #TLB_MISSES};
     * entries read by the processor's walks at {@link #TLB_WALK_STEPS}; each plus the mode.
     */
    private final long[] byMode = new long[2 * CounterBlock.PAD + 8];
    private static final int ACCESSES = CounterBlock.PAD;
    private static final int TLB_MISSES = CounterBlock.PAD + 2;
    private static final int TLB_WALK_STEPS = CounterBlock.PAD + 4;
    private static final int HITS = CounterBlock.PAD + 6;
    /** The guest mode of the access or instruction under way ({@link #USER} when true). */
    private boolean user;
    private boolean open;
    /** The counters when the window opened. */
    private final S before;

    /** @param fresh makes a zeroed counter instance (called three times, here) */
    @SuppressWarnings("unchecked")
    public ExitMeter(Source<S> source, Supplier<S> fresh) {
        this.source = source;
        S a = fresh.get();
        S b = fresh.get();
        this.work = (S[]) new Counters<?>[] {a, b};
        this.before = fresh.get();
    }

    /** An access in guest mode {@code userMode} begins (counted). */
    public void access(boolean userMode) {
        user = userMode;
        byMode[ACCESSES + (userMode ? USER : SUPERVISOR)]++;
    }

    /**
     * An access in guest mode {@code userMode} that the TLB-hit fast case served (the vCPU's
     * {@code loadHit}, {@code storeHit}): the only counter a hit changes, read both as an access
     * of its mode ({@link #accesses}) and as a {@code tlb_hit} ({@link #hits}), so a hit pays one
     * increment where it paid two. It leaves the mode of the access under way alone: a hit opens
     * no window, and every access that may ({@link #access}) or instruction ({@link
     * #beginSupervisor}) sets the mode first.
     */
    public void hit(boolean userMode) {
        byMode[HITS + (userMode ? USER : SUPERVISOR)]++;
    }

    /** {@code n} accesses in guest mode {@code userMode} that hit the TLB, retired in aggregate (counted, nothing else). */
    public void retire(long n, boolean userMode) {
        byMode[ACCESSES + (userMode ? USER : SUPERVISOR)] += n;
    }

    /** A TLB miss of the access under way (the processor's walk follows). */
    public void tlbMiss() {
        byMode[TLB_MISSES + (user ? USER : SUPERVISOR)]++;
    }

    /** {@code steps} entries read by the processor's walk for the access under way. */
    public void tlbWalkSteps(int steps) {
        byMode[TLB_WALK_STEPS + (user ? USER : SUPERVISOR)] += steps;
    }

    /** Opens the window (once per access or instruction): snapshots the counters. */
    public void begin() {
        if (open) {
            return;
        }
        open = true;
        source.setNow(before);
    }

    /** A supervisor instruction that exits or flushes (CR3 write, INVLPG): the window opens at once. */
    public void beginSupervisor() {
        if (!open) {
            user = false;
        }
        begin();
    }

    /**
     * True while a window is open: the vCPU is in the hypervisor for an exit (or serving a
     * request before entry), not in guest mode. Read by other vCPUs' remote flushes; exact when
     * one thread drives the VM, a racy snapshot with several.
     */
    public boolean inExit() {
        return open;
    }

    /**
     * Closes the window, charging its work to the guest mode of the access: one pass adds the
     * counters' change since {@link #begin} to that mode's work. The refill counters are in that
     * change too but never read from {@link #work} (the meter keeps them by mode, see
     * {@link #work(boolean)}).
     */
    public void end() {
        if (!open) {
            return;
        }
        open = false;
        source.addSince(before, work[user ? USER : SUPERVISOR]);
    }

    /** A copy of the work charged to guest mode {@code userMode}. Read it from the vCPU's thread or after the run. */
    public S work(boolean userMode) {
        int m = userMode ? USER : SUPERVISOR;
        S w = work[m].copy();
        w.setRefills(byMode[TLB_MISSES + m], byMode[TLB_WALK_STEPS + m]);
        return w;
    }

    /** Guest memory accesses made in guest mode {@code userMode}. */
    public long accesses(boolean userMode) {
        int m = userMode ? USER : SUPERVISOR;
        return byMode[ACCESSES + m] + byMode[HITS + m];
    }

    /**
     * The TLB hits {@link #hit} counted, both modes: the part of the MMU's {@code tlb_hit} that is
     * not in its counter block (the general path's hits are). Read it from the vCPU's thread, or
     * from another as a racy snapshot, as the counter blocks are read.
     */
    public long hits() {
        return byMode[HITS + USER] + byMode[HITS + SUPERVISOR];
    }
}
