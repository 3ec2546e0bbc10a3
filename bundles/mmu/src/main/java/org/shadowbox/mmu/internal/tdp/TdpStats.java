package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.mmu.internal.shadow.CounterBlock;

/**
 * The TDP MMU's counters ({@link TdpCounter}), one padded {@code long[]}: each vCPU keeps its own
 * instance changed only by its own thread, the VM's changes under its MMU lock, and {@link
 * TdpMmu#stats()} sums them ({@link CounterBlock}).
 */
public final class TdpStats extends CounterBlock<TdpCounter, TdpStats> {
    public TdpStats() {
        super(TdpCounter.class);
    }

    @Override
    protected TdpStats fresh() {
        return new TdpStats();
    }

    /** {@link org.shadowbox.mmu.internal.shadow.ExitMeter.Counters}: the processor's refill counters. */
    @Override
    public void setRefills(long misses, long walkSteps) {
        set(TdpCounter.TLB_MISS, misses);
        set(TdpCounter.TLB_WALK_STEPS, walkSteps);
    }
}
