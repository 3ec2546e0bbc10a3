package org.shadowbox.mmu.internal.shadow;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A block of MMU counters indexed by an enum, as KVM's {@code kvm_vcpu_stat} / {@code
 * kvm_vm_stat} with their descriptor tables ({@code kvm_vcpu_stats_desc}): one {@code long[]},
 * one name per enum constant, and add, subtract, copy and the by-name view written once for
 * every counter. Each vCPU owns blocks changed only by its own thread, the VM one ({@link
 * VmCounters}) is changed under its MMU lock; readers sum them ({@code kvm_get_stat_per_vcpu}).
 *
 * <p>The array carries {@link #PAD} unused longs before and after the counters, so that two
 * vCPUs' blocks, allocated one after the other, never share a cache line (nor the adjacent line
 * that the L2 prefetcher pairs with it): no false sharing between vCPUs that count on every
 * access. Nothing here allocates except {@link #copy} and {@link #asMap}.
 *
 * <p>KVM splits its counters into {@code kvm_vcpu_stat} and {@code kvm_vm_stat}; here each
 * counter has a {@link Scope}: the VM keeps its {@link Scope#VM} ones in a {@link VmCounters}.
 *
 * @param <C> the enum of the counters
 * @param <S> the concrete block type
 */
public abstract class CounterBlock<C extends Enum<C> & CounterBlock.Counter, S extends CounterBlock<C, S>>
        implements ExitMeter.Counters<S> {
    /** Longs of padding on each side: 128 bytes, two cache lines. */
    static final int PAD = 16;

    /** Whose work a counter counts: a vCPU's, or the VM's ({@code kvm_vcpu_stat}, {@code kvm_vm_stat}). */
    public enum Scope {
        /** Not counted in the VM's block: a vCPU's own counter (or the hash table's, kept in its own fields). */
        VCPU,
        /** Counted in the VM's block, under the MMU lock by any thread ({@link VmCounters}); maybe in a vCPU's too. */
        VM
    }

    /** A counter: its KVM-style name (the one every shell, JSON and cost-model consumer uses). */
    public interface Counter {
        String kvmName();

        /** True if the VM's block counts it: VM-wide work, under the MMU lock ({@code kvm_vm_stat}'s kind). */
        boolean vm();
    }

    private final C[] counters;
    /** The counters at {@code PAD + ordinal}. */
    final long[] v;

    protected CounterBlock(Class<C> type) {
        counters = type.getEnumConstants();
        v = new long[counters.length + 2 * PAD];
    }

    /** A zeroed block of the same type. */
    protected abstract S fresh();

    /** Counts one. */
    public final void inc(C c) {
        v[PAD + c.ordinal()]++;
    }

    /** Adds {@code n} (negative to count down: {@code mmu_unsync} is a level). */
    public final void add(C c, long n) {
        v[PAD + c.ordinal()] += n;
    }

    /** The counter's value. */
    public final long get(C c) {
        return v[PAD + c.ordinal()];
    }

    /** {@link ExitMeter.Counters}: the counter of ordinal {@code ordinal}. */
    @Override
    public final long at(int ordinal) {
        return v[PAD + ordinal];
    }

    /** Sets the counter (the processor's refill counters, kept by mode in the {@link ExitMeter}). */
    public final void set(C c, long value) {
        v[PAD + c.ordinal()] = value;
    }

    /** Adds {@code o}'s counters to these. */
    @Override
    public final void add(S o) {
        addScaled(o, 1);
    }

    /**
     * Adds {@code k} times {@code o}'s counters to these: -1 subtracts (the work between two
     * snapshots), and {@code a.addScaled(a, -1)} clears {@code a}. Allocates nothing.
     */
    @Override
    public final void addScaled(S o, long k) {
        long[] a = v;
        long[] b = o.v;
        for (int i = PAD, end = PAD + counters.length; i < end; i++) {
            a[i] += k * b[i];
        }
    }

    /** A new instance with the same counts. */
    @Override
    public final S copy() {
        S c = fresh();
        System.arraycopy(v, PAD, c.v, PAD, counters.length);
        return c;
    }

    /** Every counter by its KVM-style name, in the enum's (stable) order. */
    public final Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (C c : counters) {
            m.put(c.kvmName(), get(c));
        }
        return m;
    }

    @Override
    public final String toString() {
        return asMap().toString();
    }
}
