package org.shadowbox.guest.internal.scenario;

import java.util.function.IntFunction;

import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Program;
import org.shadowbox.guest.internal.kernel.Task;

/**
 * A parent that forks {@code units} children, at most {@code jobs} alive at once, doing some
 * work of its own between forks and reaping children as they exit ({@code make -jN}, a shell in
 * a loop); it exits when the last child has been reaped. It may first write its whole heap, so
 * that its children share (copy-on-write) a populated address space.
 */
final class Spawner extends Program {
    private final int jobs;
    private final int units;
    private final IntFunction<Program> children;
    private final AccessGen gen;
    private final int workBetween;
    private final int warmHeap;
    private int warmed;
    private int started;
    private int running;
    private int pendingWork;

    Spawner(int jobs, int units, IntFunction<Program> children, Profile own, int workBetween, int warmHeap) {
        this.jobs = jobs;
        this.units = units;
        this.children = children;
        this.gen = new AccessGen(own);
        this.workBetween = workBetween;
        this.warmHeap = warmHeap;
    }

    @Override
    protected void run(Kernel k, Task t, int budget) {
        for (int i = 0; i < budget; i++) {
            if (warmed < warmHeap) {
                k.access(t, t.heap, warmed++, 0, Kernel.WRITE);
                if (warmed == warmHeap) {
                    gen.setFrontier(warmHeap);
                }
                continue;
            }
            if (pendingWork > 0) {
                gen.step(k, t);
                pendingWork--;
                continue;
            }
            if (started < units && running < jobs) {
                k.fork(t, children.apply(started));
                started++;
                running++;
                pendingWork = workBetween;
                continue;
            }
            if (running == 0) {
                k.exit(t);
                return;
            }
            int w = k.waitChild(t);
            if (w == 0) {
                return; // blocked until a child exits
            }
            if (w < 0) {
                throw new IllegalStateException("guest program bug: " + t + " counts " + running + " children, the kernel none");
            }
            running--;
            pendingWork = workBetween / 4;
        }
    }
}
