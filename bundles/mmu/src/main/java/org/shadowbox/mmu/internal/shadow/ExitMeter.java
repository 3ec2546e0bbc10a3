package org.shadowbox.mmu.internal.shadow;

import java.util.function.Supplier;

/**
 * The work done for one vCPU's exits, split by the guest mode that took them (a guest's clock
 * charges the time the hypervisor spends on an exit to the mode it interrupted): for the cost
 * model of issue 5. One meter for both MMUs; {@code S} is the MMU's counter type
 * ({@link MmuStats}, or the TDP MMU's) and the MMU says through a {@link Source} where its vCPU
 * counts and which VM-wide counters a window measures.
 *
 * <p>A window opens where the access leaves the processor's hands (a #PF exit or TDP
 * violation, a request or root change served before entry, a CR3 or INVLPG exit, and under
 * TDP a CR3 load or INVLPG that flushes without an exit) and closes when the access or
 * instruction is done; the window's work is what this vCPU counted and what the VM-wide
 * counters (shadow or TDP table pages made and zapped, hash chain steps, remote flushes)
 * changed meanwhile. The processor's own work, TLB misses and the entries its walker reads, is
 * counted by mode as it happens (inside a window too, so windows leave those two counters
 * out); a TLB hit that the processor's fast case serves costs one counter increment ({@link
 * #hit}: the access and the hit, counted once by mode, and read as both).
 *
 * <p>A window opens and closes on every exit, so the meter's own cost is on the fault path, and
 * it is kept small. The vCPU's own counters are counted where they belong as they happen: the
 * meter holds three blocks of them, one for outside windows and one per guest mode, and at each
 * opening and closing tells the vCPU which one it counts into from then on ({@link
 * Source#countInto}); the vCPU's counters are the three summed ({@link #own}). Only the VM-wide
 * counters ({@link VmCounters}: 16 of the shadow MMU's 41, 7 of TDP's 28) are copied at the
 * opening, in one run; at the closing their change is added only if one changed, and most
 * windows see none. A window's mode is that of the access or instruction that opened it; no
 * access begins while a window is open. (Until issue 15 each opening copied, and each closing
 * subtracted, every counter of both blocks: 17 to 19% of a fault's time; now 6%, measured in
 * the benchmarks doc.)
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
    /** Where {@link #own} keeps the vCPU's counts made outside windows. */
    public static final int OUTSIDE = 2;

    /** What the meter needs of an MMU's counter type. */
    public interface Counters<S> {
        /** Adds {@code o}'s counters to these. */
        void add(S o);

        /** Adds {@code k} times {@code o}'s counters to these ({@code a.addScaled(a, -1)} clears {@code a}). */
        void addScaled(S o, long k);

        /** A new instance with the same counts. */
        S copy();

        /** Sets the processor's refill counters, which the meter keeps by mode itself. */
        void setRefills(long tlbMisses, long tlbWalkSteps);

        /** The counter of ordinal {@code ordinal}. */
        long at(int ordinal);
    }

    /**
     * Where the vCPU counts, and the VM-wide counters a window measures. The snapshot methods
     * touch only the VM-wide counters: the vCPU's own are counted into the window's block.
     */
    public interface Source<S> {
        /** The vCPU counts its own counters into {@code block} from now on (one of {@link ExitMeter#own}'s). */
        void countInto(S block);

        /** Takes a snapshot of the VM-wide counters (the source keeps it). */
        void snapshot();

        /** Adds the VM-wide counters' change since the last {@link #snapshot} to {@code into}. */
        void addSince(S into);
    }

    private final Source<S> source;
    /**
     * The vCPU's own counts: made in windows of supervisor mode ({@link #SUPERVISOR}), of user
     * mode ({@link #USER}), and outside windows ({@link #OUTSIDE}).
     */
    private final S[] own;
    /** The VM-wide counters' change during this vCPU's windows, by guest mode. */
    private final S[] shared;
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

    /**
     * @param fresh makes a zeroed counter instance (called five times, here); the vCPU counts into
     *     the {@link #OUTSIDE} block until the first window opens, see {@link #counting()}
     */
    @SuppressWarnings("unchecked")
    public ExitMeter(Source<S> source, Supplier<S> fresh) {
        this.source = source;
        this.own = (S[]) new Counters<?>[] {fresh.get(), fresh.get(), fresh.get()};
        this.shared = (S[]) new Counters<?>[] {fresh.get(), fresh.get()};
    }

    /** The block the vCPU counts into before any window: its initial value of what {@link Source#countInto} sets. */
    public S counting() {
        return own[OUTSIDE];
    }

    /**
     * One of the vCPU's three blocks of own counts ({@link #SUPERVISOR}, {@link #USER}, {@link
     * #OUTSIDE}): the vCPU's counter is the sum of the three. Read it from the vCPU's thread or
     * after the run, or from another as a racy snapshot.
     */
    public S own(int i) {
        return own[i];
    }

    /** The vCPU's counter of ordinal {@code ordinal}: its three blocks summed. Its own thread, or a racy snapshot. */
    public long ownCount(int ordinal) {
        return own[SUPERVISOR].at(ordinal) + own[USER].at(ordinal) + own[OUTSIDE].at(ordinal);
    }

    /** Adds the vCPU's counters, its three blocks, to {@code into}. */
    public void addOwn(S into) {
        into.add(own[SUPERVISOR]);
        into.add(own[USER]);
        into.add(own[OUTSIDE]);
    }

    /** An access in guest mode {@code userMode} begins (counted). Never while a window is open: a window keeps its mode. */
    public void access(boolean userMode) {
        assert !open : "an access began inside an exit window";
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

    /**
     * Opens the window (once per access or instruction): the vCPU counts into the block of the
     * access's mode, and the VM-wide counters are snapshot.
     */
    public void begin() {
        if (open) {
            return;
        }
        open = true;
        source.countInto(own[user ? USER : SUPERVISOR]);
        source.snapshot();
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
     * Closes the window, charging its work to the guest mode of the access: the vCPU counts
     * outside windows again, and the VM-wide counters' change since {@link #begin} is added to
     * that mode's. The refill counters the vCPU counted in the window are in its block too, but
     * never read from {@link #work} (the meter keeps them by mode, see {@link #work(boolean)}).
     */
    public void end() {
        if (!open) {
            return;
        }
        open = false;
        source.countInto(own[OUTSIDE]);
        source.addSince(shared[user ? USER : SUPERVISOR]);
    }

    /** A copy of the work charged to guest mode {@code userMode}. Read it from the vCPU's thread or after the run. */
    public S work(boolean userMode) {
        int m = userMode ? USER : SUPERVISOR;
        S w = own[m].copy();
        w.add(shared[m]);
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
