package org.shadowbox.mmu.internal.shadow;

/**
 * The VM's counters ({@code kvm_vm_stat}): the VM-wide ones of a counter enum ({@link
 * CounterBlock.Scope#VM}), changed under the MMU lock by any thread, in one compact array with a
 * count of their changes. The exit meter copies that array when a window opens ({@link #setNow})
 * and, when it closes, adds the change only if there was one ({@link #addSince}): most windows
 * (a fault that maps a page in an existing shadow page) see none.
 *
 * <p>Only VM-wide counters may be counted here (an assertion, on in the tests). Reads from
 * another thread without the MMU lock are racy snapshots, as KVM's own statistics are.
 *
 * @param <C> the enum of the counters
 * @param <S> the block type that sums and meters them
 */
public final class VmCounters<C extends Enum<C> & CounterBlock.Counter, S extends CounterBlock<C, S>> {
    /** Where the change count lives: the first long after the padding; counter k follows at {@code FIRST + k}. */
    private static final int CHANGES = CounterBlock.PAD;
    private static final int FIRST = CHANGES + 1;

    /** By ordinal, the counter's index among the VM-wide ones, or -1. */
    private final int[] index;
    /** By index among the VM-wide ones, the counter's ordinal. */
    private final int[] ordinal;
    /** The change count and the counters, padded like a {@link CounterBlock} (written by any vCPU's thread). */
    private final long[] v;

    public VmCounters(Class<C> type) {
        C[] all = type.getEnumConstants();
        index = new int[all.length];
        int n = 0;
        for (C c : all) {
            index[c.ordinal()] = c.vm() ? n++ : -1;
        }
        ordinal = new int[n];
        for (C c : all) {
            if (c.vm()) {
                ordinal[index[c.ordinal()]] = c.ordinal();
            }
        }
        v = new long[FIRST + n + CounterBlock.PAD];
    }

    /** Counts one of VM-wide counter {@code c}. */
    public void inc(C c) {
        add(c, 1);
    }

    /** Adds {@code n} to VM-wide counter {@code c} (negative to count down: {@code mmu_unsync} is a level). */
    public void add(C c, long n) {
        assert c.vm() : c + " is no VM-wide counter: count it in a vCPU's block";
        v[CHANGES]++;
        v[FIRST + index[c.ordinal()]] += n;
    }

    /** The counter's value (0 for one that is not VM-wide). */
    public long get(C c) {
        int i = index[c.ordinal()];
        return i < 0 ? 0 : v[FIRST + i];
    }

    /** Adds these counters to {@code into}. */
    public void addTo(S into) {
        for (int k = 0; k < ordinal.length; k++) {
            into.v[CounterBlock.PAD + ordinal[k]] += v[FIRST + k];
        }
    }

    /** A zeroed array for {@link #setNow}: one per window-keeping vCPU. */
    public long[] newSnapshot() {
        return new long[FIRST + ordinal.length];
    }

    /** The exit meter's snapshot when a window opens: the change count and the counters, one copy. */
    public void setNow(long[] before) {
        System.arraycopy(v, CHANGES, before, CHANGES, 1 + ordinal.length);
    }

    /**
     * The exit meter's window closing: adds the counters' change since {@link #setNow} took
     * {@code before} to {@code into}, or returns at once if none changed meanwhile.
     */
    public void addSince(long[] before, S into) {
        long[] now = v;
        if (now[CHANGES] == before[CHANGES]) {
            return;
        }
        long[] d = into.v;
        for (int k = 0; k < ordinal.length; k++) {
            d[CounterBlock.PAD + ordinal[k]] += now[FIRST + k] - before[FIRST + k];
        }
    }
}
