package org.shadowbox.guest.internal.kernel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * The scheduler of an SMP guest: {@link Kernel#threads} host threads, vCPU {@code v} driven by
 * thread {@code v % threads} alone (KVM's rule: one thread runs a vCPU at a time, several vCPUs
 * run at once). The calling thread is thread 0; the others are started for the run and joined
 * before it returns. Each thread loops over its vCPUs (in an order drawn from the seed when it
 * has several): a vCPU without a process takes one from the shared run queue (the first that
 * last ran on this host thread, else the head: cache affinity, {@link Scheduler#dequeueAffine}), runs it for a
 * burst of user accesses (no lock), and after the burst either keeps it, or, when it blocked,
 * exited or used its slice while others wait, leaves it: the vCPU loads the kernel's pgd
 * ({@link Kernel#leaveMm}) first, then, under the tasklist lock, the process is requeued if
 * runnable. A thread with nothing to run waits on the run queue's condition.
 *
 * <p>The interleaving is the host's, so event counts vary from run to run (as on a real SMP
 * guest); what each process does is still drawn from its own seeded stream, and the guest's
 * memory is verified after the run as with one thread. A failure on any thread (a corrupted
 * guest view, a deadlock, an MMU error) stops every thread at its next scheduling point and is
 * rethrown by {@link #run} on the calling thread.
 */
final class SmpScheduler {
    private final Kernel k;
    private final Scheduler s;
    private final int threads;
    /** The first failure of any thread; the others stop when they see it. */
    private volatile Throwable failure;
    /** Processes on a vCPU now (picked and not yet left). Under the tasklist lock. */
    private int running;
    /** The calling thread was interrupted while it waited (it does not stop the run). */
    private boolean interrupted;

    SmpScheduler(Kernel k, Scheduler s) {
        this.k = k;
        this.s = s;
        this.threads = k.threads;
    }

    /** Runs until every process has exited; {@code tick} is called on this thread only. */
    void run(LongConsumer tick, long tickAccesses) {
        Thread[] others = new Thread[threads - 1];
        for (int i = 1; i < threads; i++) {
            int id = i;
            others[i - 1] = new Thread(() -> guarded(id, null, 0), "shadowbox-guest-vcpu-thread-" + i);
            others[i - 1].setDaemon(true);
            others[i - 1].start();
        }
        guarded(0, tick, tickAccesses);
        if (HostThreads.joinAll(others)) { // the other threads stop on their own
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        HostThreads.rethrow(failure);
    }

    private void guarded(int thread, LongConsumer tick, long tickAccesses) {
        ThreadMXBean mx = LockStats.STATS ? ManagementFactory.getThreadMXBean() : null;
        long wall0 = LockStats.STATS ? System.nanoTime() : 0; // the diagnostic mode: measures, decides nothing
        long cpu0 = LockStats.STATS ? mx.getCurrentThreadCpuTime() : 0;
        long delay0 = LockStats.STATS ? LockStats.runDelay() : 0;
        try {
            loop(thread, tick, tickAccesses);
            if (LockStats.STATS) {
                long delay1 = LockStats.runDelay();
                LockStats.thread(System.nanoTime() - wall0, mx.getCurrentThreadCpuTime() - cpu0,
                        delay0 < 0 || delay1 < 0 ? -1 : delay1 - delay0);
            }
        } catch (Throwable e) { // every failure must reach the caller, whatever it is
            fail(e);
        }
    }

    private void fail(Throwable e) {
        k.tasklist.lock();
        try {
            if (failure == null) {
                failure = e;
            }
            s.work.signalAll();
        } finally {
            k.tasklist.unlock();
        }
    }

    private void loop(int thread, LongConsumer tick, long tickAccesses) {
        k.phys.bind(thread); // this thread's page list (the per-CPU pages of PhysMem)
        int n = 0;
        for (int v = thread; v < s.current.length; v += threads) {
            n++;
        }
        int[] mine = new int[n];
        for (int i = 0, v = thread; v < s.current.length; v += threads) {
            mine[i++] = v;
        }
        SplittableRandom rng = new SplittableRandom(k.seed * 0x2545_f491_4f6c_dd1dL + 1 + thread);
        long nextTick = tickAccesses;
        int bursts = 0;
        while (failure == null) {
            int v = n == 1 ? mine[0] : mine[rng.nextInt(n)];
            Task t = s.current[v];
            if (t == null) {
                int r = pick(thread, v, mine, tick != null);
                if (r == DONE) {
                    return;
                }
                if (r == OTHER) {
                    if (tick != null && k.counters.accesses() >= nextTick) {
                        tick.accept(k.counters.accesses()); // idle here, the others are working
                        nextTick = k.counters.accesses() + tickAccesses;
                    }
                    continue;
                }
                t = s.current[v];
                k.switchMm(v, t.mm);
            }
            t.program.run(k, t, Scheduler.BURST);
            if (t.state != Task.RUNNING) {
                leave(v, t);
            } else if (t.slice >= Scheduler.SLICE && !s.queueEmpty()) {
                leave(v, t);
            }
            if (tick != null && (++bursts & (TICK_BURSTS - 1)) == 0 && k.counters.accesses() >= nextTick) {
                tick.accept(k.counters.accesses());
                nextTick = k.counters.accesses() + tickAccesses;
            }
        }
    }

    private static final int PICKED = 0, OTHER = 1, DONE = 2;
    /**
     * Bursts between two looks at the run's progress by the ticking thread (a power of two):
     * {@link Counters#accesses} reads every vCPU's counters, lines the other threads write on
     * every access, so reading them after every burst cost the ticking thread two cache misses
     * per {@value Scheduler#BURST} accesses.
     */
    private static final int TICK_BURSTS = 64;
    /** How long the ticking thread waits idle before it looks at the progress again. */
    private static final long IDLE_TICK_NANOS = 10_000_000;

    /**
     * Gives vCPU {@code v} of host thread {@code thread} a process of the run queue, the first
     * one that last ran on this thread if there is one ({@link Scheduler#dequeueAffine};
     * {@link #PICKED}; its CR3 is loaded by the caller, outside the lock), or says that another
     * vCPU of this thread has a process to run or that it waited {@link #IDLE_TICK_NANOS} ({@link #OTHER}, when {@code ticking}: the
     * thread that reports progress keeps reporting while only the others work), or that the run
     * is over ({@link #DONE}); waits while this thread has nothing to run and the queue is empty.
     */
    private int pick(int thread, int v, int[] mine, boolean ticking) {
        k.tasklist.lock();
        try {
            while (true) {
                if (failure != null || k.live == 0) {
                    return DONE;
                }
                Task t = s.dequeueAffine(thread);
                if (t != null) {
                    if (LockStats.STATS && t.lastThread >= 0 && t.lastThread != thread) {
                        LockStats.migrated();
                    }
                    t.lastThread = thread;
                    t.vcpu = v;
                    t.state = Task.RUNNING;
                    t.slice = 0;
                    t.onCpu = true;
                    running++;
                    k.counters.cpu[v].contextSwitches++;
                    s.current[v] = t;
                    return PICKED;
                }
                for (int w : mine) {
                    if (s.current[w] != null) {
                        return OTHER;
                    }
                }
                if (running == 0) {
                    throw new IllegalStateException("guest deadlock: " + k.live + " processes alive, none runnable");
                }
                long idle0 = LockStats.STATS ? System.nanoTime() : 0;
                if (!ticking) {
                    k.tasklist.await(s.work);
                    if (LockStats.STATS) {
                        LockStats.idle(System.nanoTime() - idle0);
                    }
                } else {
                    try {
                        long left = k.tasklist.awaitNanos(s.work, IDLE_TICK_NANOS);
                        if (LockStats.STATS) {
                            LockStats.idle(System.nanoTime() - idle0);
                        }
                        if (left <= 0) {
                            return OTHER;
                        }
                    } catch (InterruptedException e) {
                        interrupted = true; // the run goes on; the caller's flag is set again at the end
                        return OTHER;
                    }
                }
            }
        } finally {
            k.tasklist.unlock();
        }
    }

    /**
     * Process {@code t} leaves vCPU {@code v}: the vCPU drops its mm first (the exit path has
     * already), then, under the lock, the process is requeued when it is runnable (preempted,
     * or woken while it was still here) and stops counting as running.
     */
    private void leave(int v, Task t) {
        k.leaveMm(v);
        k.tasklist.lock();
        try {
            s.current[v] = null;
            t.onCpu = false;
            running--;
            int st = t.state;
            if (st == Task.RUNNING || st == Task.RUNNABLE) {
                s.enqueue(t);
            } else if (st == Task.BLOCKED) {
                t.vcpu = -1;
            }
        } finally {
            k.tasklist.unlock();
        }
    }
}
