package org.shadowbox.guest.internal.kernel;

import java.util.SplittableRandom;

/** A process ({@code struct task_struct}), single-threaded. */
public final class Task {
    static final int RUNNABLE = 0, RUNNING = 1, BLOCKED = 2, ZOMBIE = 3, REAPED = 4;

    final int pid;
    final Task parent;
    Mm mm;
    Program program;
    /**
     * Changed under the tasklist lock; volatile because under SMP the vCPU running the process
     * looks at it after each burst without the lock (a wake-up may change BLOCKED to RUNNABLE
     * meanwhile; either is "not RUNNING", and it is read again under the lock).
     */
    volatile int state = RUNNABLE;
    /** The vCPU it runs on, -1 when not running. */
    int vcpu = -1;
    /**
     * SMP: a vCPU still has it (from the pick until that vCPU has left it: {@code p->on_cpu}).
     * A wake-up then only marks it RUNNABLE, and the vCPU requeues it when it leaves. Under the
     * tasklist lock.
     */
    boolean onCpu;
    /**
     * SMP: the host thread it last ran on, -1 before its first run ({@code task_cpu()} for the
     * host's caches: {@link SmpScheduler} prefers to give it back to that thread). Under the
     * tasklist lock.
     */
    int lastThread = -1;
    /** Children that exited and were not reaped yet. */
    int zombies;
    int liveChildren;
    /** User accesses in its current time slice. */
    int slice;
    /** This process's own random stream: what it does does not depend on where it runs. */
    public final SplittableRandom rng;
    /**
     * The parent of a {@code vfork} child while the child borrows its address space (until the
     * child's exec or exit, which wakes the parent and gives the mm back); null otherwise.
     */
    Task vforkParent;
    /** The areas exec set up (null before the first exec). */
    public Area text, data, heap, stack;

    Task(int pid, Task parent, long seed) {
        this.pid = pid;
        this.parent = parent;
        this.rng = new SplittableRandom(seed ^ (pid * 0x9e37_79b9_7f4a_7c15L));
    }

    public int pid() {
        return pid;
    }

    /** The vCPU it runs on, -1 when not running. */
    public int vcpu() {
        return vcpu;
    }

    public boolean exited() {
        return state >= ZOMBIE;
    }

    @Override
    public String toString() {
        return "pid " + pid;
    }
}
