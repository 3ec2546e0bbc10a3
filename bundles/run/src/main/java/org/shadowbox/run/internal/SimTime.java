package org.shadowbox.run.internal;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.shadowbox.run.internal.CostModel.Item;

/**
 * The simulated time of one run: every vCPU's work in each guest mode charged at the cost
 * model's figures, then, as a guest's {@code time} would print it at the simulated clock:
 * <ul>
 * <li>{@code user} = the sum over vCPUs of the cycles charged to user mode (the guest's own
 *     user-mode instructions and the exits they caused);
 * <li>{@code sys} = the same for supervisor mode (the guest kernel's work and its exits);
 * <li>{@code real} = the busiest vCPU's user + sys cycles: the vCPUs run in parallel, each on its
 *     own host core, and the run ends when the last one is done. The model has no idle time and
 *     no lock contention (the remote-flush charge already includes the wait for the targets).
 * </ul>
 *
 * @param userCycles per vCPU, cycles charged to user mode
 * @param sysCycles  per vCPU, cycles charged to supervisor mode
 * @param userByItem over all vCPUs, user-mode cycles per kind of work
 * @param sysByItem  over all vCPUs, supervisor-mode cycles per kind of work
 * @param counts     over all vCPUs and modes, how many times each kind of work was done
 * @param vcpuCounts per vCPU, per mode ({@link #SUPERVISOR}, {@link #USER}), per {@link Item} ordinal: the counts charged
 */
public record SimTime(long[] userCycles, long[] sysCycles, Map<Item, Long> userByItem, Map<Item, Long> sysByItem,
        Map<Item, Long> counts, double realSeconds, double userSeconds, double sysSeconds, long[][][] vcpuCounts) {

    /** Index of a vCPU's supervisor-mode work in {@link #charge}'s pairs. */
    public static final int SUPERVISOR = 0;
    /** Index of a vCPU's user-mode work. */
    public static final int USER = 1;

    /**
     * Charges the work of a run.
     *
     * @param work      per vCPU, its work {@code [supervisor, user]} by counter name ({@link org.shadowbox.mmu.meter.MmuMeter#work})
     * @param notifiers page-track notifiers attached to the VM
     */
    public static SimTime charge(CostModel model, List<Map<String, Long>[]> work, int notifiers) {
        int n = work.size();
        long[] user = new long[n];
        long[] sys = new long[n];
        Map<Item, Long> userBy = zero();
        Map<Item, Long> sysBy = zero();
        Map<Item, Long> counts = zero();
        long[][][] vcpuCounts = new long[n][2][Item.values().length];
        for (int v = 0; v < n; v++) {
            for (int mode = SUPERVISOR; mode <= USER; mode++) {
                Map<String, Long> w = work.get(v)[mode];
                for (Item i : Item.values()) {
                    long count = i.count(w, n, notifiers);
                    vcpuCounts[v][mode][i.ordinal()] = count;
                    long c = Math.multiplyExact(count, model.cycles(i));
                    counts.merge(i, count, Long::sum);
                    if (mode == USER) {
                        user[v] += c;
                        userBy.merge(i, c, Long::sum);
                    } else {
                        sys[v] += c;
                        sysBy.merge(i, c, Long::sum);
                    }
                }
            }
        }
        long busiest = 0;
        long userTotal = 0;
        long sysTotal = 0;
        for (int v = 0; v < n; v++) {
            busiest = Math.max(busiest, user[v] + sys[v]);
            userTotal += user[v];
            sysTotal += sys[v];
        }
        return new SimTime(user, sys, userBy, sysBy, counts, model.seconds(busiest), model.seconds(userTotal),
                model.seconds(sysTotal), vcpuCounts);
    }

    private static Map<Item, Long> zero() {
        Map<Item, Long> m = new EnumMap<>(Item.class);
        for (Item i : Item.values()) {
            m.put(i, 0L);
        }
        return m;
    }

    /** All cycles charged, user and sys, every vCPU. */
    public long totalCycles() {
        long t = 0;
        for (int v = 0; v < userCycles.length; v++) {
            t += userCycles[v] + sysCycles[v];
        }
        return t;
    }
}
