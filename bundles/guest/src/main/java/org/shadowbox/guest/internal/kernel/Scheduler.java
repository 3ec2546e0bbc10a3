package org.shadowbox.guest.internal.kernel;

import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.locks.Condition;
import java.util.function.LongConsumer;

/**
 * Places processes on vCPUs and runs them. With one host thread, all vCPUs are interleaved on it
 * in an order drawn from the seed: each step picks a vCPU, which takes the next runnable process
 * if it has none (a context switch: CR3 load) and runs it for a burst of accesses. A process that
 * used its time slice goes to the back of the run queue when another is waiting; a blocked or
 * exited one leaves its vCPU (which keeps CR3 as it was: lazy TLB). With more threads
 * ({@link Kernel#threads} above 1) {@link SmpScheduler} runs the same policy with each vCPU on
 * its own thread. The run queue is the tasklist lock's ({@link Kernel#tasklist}).
 */
public final class Scheduler {
    /** User accesses a process runs per scheduling step. */
    static final int BURST = 32;
    /** User accesses in a time slice. */
    static final int SLICE = 4096;

    private final Kernel k;
    private final SplittableRandom rng;
    private final ArrayDeque<Task> runqueue = new ArrayDeque<>();
    final Task[] current;
    /** The run queue's length, readable without the lock (SMP: "is anyone waiting" after a slice). */
    private volatile int queued;
    /** SMP: signalled when a process is queued, the last one exits, or a vCPU thread failed. */
    final Condition work;

    Scheduler(Kernel k, long seed) {
        this.k = k;
        this.rng = new SplittableRandom(seed * 0x2545_f491_4f6c_dd1dL + 1);
        this.current = new Task[k.cpus.length];
        this.work = k.tasklist.newCondition();
    }

    /** Puts {@code t} at the back of the run queue. Tasklist lock held. */
    void enqueue(Task t) {
        k.tasklist.assertHeld();
        t.state = Task.RUNNABLE;
        t.vcpu = -1;
        runqueue.addLast(t);
        queued = runqueue.size();
        if (k.smp()) {
            work.signalAll();
        }
    }

    /** The process at the head of the run queue, or null. Tasklist lock held. */
    Task dequeue() {
        k.tasklist.assertHeld();
        Task t = runqueue.pollFirst();
        queued = runqueue.size();
        return t;
    }

    /**
     * SMP: the first process of the run queue that last ran on host thread {@code thread} or
     * never ran, else the head (a vCPU never idles while a process waits: Linux's idle balance
     * pulls one across), or null. Cache affinity: Linux keeps a task on its CPU's own run queue,
     * so its working set stays in that CPU's caches; here the host thread's caches hold the
     * process's guest pages, page tables, shadow pages and memory-image lines. Tasklist lock held.
     */
    Task dequeueAffine(int thread) {
        k.tasklist.assertHeld();
        Task pick = null;
        for (Task t : runqueue) {
            if (t.lastThread == thread || t.lastThread < 0) {
                pick = t;
                break;
            }
        }
        if (pick == null) {
            pick = runqueue.pollFirst();
        } else {
            runqueue.removeFirstOccurrence(pick);
        }
        queued = runqueue.size();
        return pick;
    }

    boolean queueEmpty() {
        return queued == 0;
    }

    /**
     * {@code try_to_wake_up} of a blocked process. Tasklist lock held. Under SMP its vCPU may not
     * have left it yet (it blocked, and its thread has not come back to the scheduler): then it
     * is only marked RUNNABLE and its vCPU requeues it on leaving, so it never runs on two.
     */
    void wakeUp(Task p) {
        k.tasklist.assertHeld();
        if (p.onCpu) {
            p.state = Task.RUNNABLE;
        } else {
            enqueue(p);
        }
    }

    /** The last process exited. Tasklist lock held. */
    void allExited() {
        if (k.smp()) {
            work.signalAll();
        }
    }

    /**
     * Runs until every process has exited. {@code tick} (may be null) hears the access count
     * every {@code tickAccesses} accesses, on the calling thread.
     */
    public void run(LongConsumer tick, long tickAccesses) {
        if (k.smp()) {
            new SmpScheduler(k, this).run(tick, tickAccesses);
            return;
        }
        int n = current.length;
        long nextTick = tickAccesses;
        while (k.live > 0) {
            int v = rng.nextInt(n);
            Task t = current[v];
            if (t == null) {
                k.tasklist.lock();
                try {
                    t = dequeue();
                    if (t == null) {
                        checkNotDeadlocked();
                        continue;
                    }
                    k.switchTo(v, t);
                } finally {
                    k.tasklist.unlock();
                }
                current[v] = t;
            }
            t.program.run(k, t, BURST);
            if (t.state != Task.RUNNING) {
                if (t.state == Task.BLOCKED) {
                    t.vcpu = -1;
                }
                current[v] = null;
            } else if (t.slice >= SLICE && !queueEmpty()) {
                current[v] = null;
                k.tasklist.lock();
                try {
                    enqueue(t);
                } finally {
                    k.tasklist.unlock();
                }
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
