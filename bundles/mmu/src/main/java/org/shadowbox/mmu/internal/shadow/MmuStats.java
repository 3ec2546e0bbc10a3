package org.shadowbox.mmu.internal.shadow;

/**
 * The shadow MMU's counters ({@link MmuCounter}), one padded {@code long[]}: each vCPU keeps its
 * own instance changed only by its own thread, the VM's changes under its MMU lock, and {@link
 * ShadowMmu#stats()} sums them ({@link CounterBlock}).
 */
public final class MmuStats extends CounterBlock<MmuCounter, MmuStats> {
    public MmuStats() {
        super(MmuCounter.class);
    }

    @Override
    protected MmuStats fresh() {
        return new MmuStats();
    }

    /** {@link ExitMeter.Counters}: the processor's refill counters. */
    @Override
    public void setRefills(long misses, long walkSteps) {
        set(MmuCounter.TLB_MISS, misses);
        set(MmuCounter.TLB_WALK_STEPS, walkSteps);
    }
}
