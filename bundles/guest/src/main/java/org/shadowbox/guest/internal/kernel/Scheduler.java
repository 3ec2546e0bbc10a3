package org.shadowbox.guest.internal.kernel;

import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * Places processes on vCPUs and runs them, all vCPUs interleaved on one thread in an order drawn
 * from the seed: each step picks a vCPU, which takes the next runnable process if it has none
 * (a context switch: CR3 load) and runs it for a burst of accesses. A process that used its time
 * slice goes to the back of the run queue when another is waiting; a blocked or exited one
 * leaves its vCPU (which keeps CR3 as it was: lazy TLB).
 */
public final class Scheduler {
    /** User accesses a process runs per scheduling step. */
    static final int BURST = 32;
    /** User accesses in a time slice. */
    static final int SLICE = 4096;

    private final Kernel k;
    private final SplittableRandom rng;
    private final ArrayDeque<Task> runqueue = new ArrayDeque<>();
    private final Task[] current;

    Scheduler(Kernel k, long seed) {
        this.k = k;
        this.rng = new SplittableRandom(seed * 0x2545_f491_4f6c_dd1dL + 1);
        this.current = new Task[k.cpus.length];
    }

    void enqueue(Task t) {
        t.state = Task.RUNNABLE;
        t.vcpu = -1;
        runqueue.addLast(t);
    }

    /**
     * Runs until every process has exited. {@code tick} (may be null) hears the access count
     * every {@code tickAccesses} accesses.
     */
    public void run(LongConsumer tick, long tickAccesses) {
        int n = current.length;
        long nextTick = tickAccesses;
        while (k.live > 0) {
            int v = rng.nextInt(n);
            Task t = current[v];
            if (t == null) {
                t = runqueue.pollFirst();
                if (t == null) {
                    checkNotDeadlocked();
                    continue;
                }
                k.switchTo(v, t);
                current[v] = t;
            }
            t.program.run(k, t, BURST);
            if (t.state != Task.RUNNING) {
                if (t.state == Task.BLOCKED) {
                    t.vcpu = -1;
                }
                current[v] = null;
            } else if (t.slice >= SLICE && !runqueue.isEmpty()) {
                current[v] = null;
                enqueue(t);
            }
            if (tick != null && k.counters.accesses() >= nextTick) {
                tick.accept(k.counters.accesses());
                nextTick = k.counters.accesses() + tickAccesses;
            }
        }
    }

    private void checkNotDeadlocked() {
        for (Task t : current) {
            if (t != null) {
                return;
            }
        }
        throw new IllegalStateException("guest deadlock: " + k.live + " processes alive, none runnable");
    }
}
