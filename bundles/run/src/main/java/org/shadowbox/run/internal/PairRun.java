package org.shadowbox.run.internal;

import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * The two runs of a comparison at the same time: the legacy VM's on a host thread of its own,
 * the pagetrack VM's on the calling thread. They are independent VMs (their own memslots, MMU
 * state, meter, guest kernel model, seed-driven scheduler), so each gives exactly the counts it
 * gives alone; on two host cores the comparison takes the time of its slower run instead of the
 * sum.
 *
 * <p>Progress and stopping stay on the calling thread: the other thread only posts its figures,
 * and the calling thread forwards both runs' together to the sink (while its own run goes on, and
 * then while it waits for the other). A stop (the sink throws, or the calling thread is
 * interrupted) or a failure of either run makes the other stop at its next progress report; the
 * first failure is thrown, after both runs have ended and both VMs are removed.
 */
final class PairRun {
    /** How often the calling thread, its own run over, reports the other's progress and checks for a stop. */
    private static final long POLL_MILLIS = 100;

    private final Simulator sim;
    private final String scenario;
    private final long scale;
    private final long seed;
    private final String mmuKind;
    private final int threads;
    private final int vcpus;
    private final long memoryBytes;
    private final long warmup;
    private final CostModel model;
    private final Simulator.ProgressSink sink;

    private volatile boolean abort;
    private volatile long doneA, totalA, accessesA;
    private volatile long doneB, totalB, accessesB;
    private ScenarioRunner.Progress shown;

    PairRun(Simulator sim, String scenario, long scale, long seed, String mmuKind, int threads, int vcpus, long memoryBytes,
            long warmup, CostModel model, Simulator.ProgressSink sink) {
        this.sim = sim;
        this.scenario = scenario;
        this.scale = scale;
        this.seed = seed;
        this.mmuKind = mmuKind;
        this.threads = threads;
        this.vcpus = vcpus;
        this.memoryBytes = memoryBytes;
        this.warmup = warmup;
        this.model = model;
        this.sink = sink;
    }

    Comparison run() {
        Vm legacyVm = sim.createCompareVm(VmSpec.POLICY_LEGACY, mmuKind, vcpus, memoryBytes);
        Vm pagetrackVm;
        try {
            pagetrackVm = sim.createCompareVm(VmSpec.POLICY_PAGETRACK, mmuKind, vcpus, memoryBytes);
        } catch (RuntimeException e) {
            sim.destroyVm(legacyVm);
            throw e;
        }
        try {
            shown = sink == null ? null : sink.start(VmSpec.POLICY_LEGACY + " + " + VmSpec.POLICY_PAGETRACK);
            return both(legacyVm, pagetrackVm);
        } finally {
            sim.destroyVm(legacyVm);
            sim.destroyVm(pagetrackVm);
            if (sink != null) {
                sink.done();
            }
        }
    }

    private Comparison both(Vm legacyVm, Vm pagetrackVm) {
        RunReport[] legacy = new RunReport[1];
        Throwable[] legacyFailed = new Throwable[1];
        Thread other = new Thread(() -> {
            try {
                legacy[0] = sim.run(legacyVm, scenario, scale, seed, threads, warmup, model, (d, t, a) -> {
                    if (abort) {
                        throw new VmException("stopped: the other run of the comparison ended first");
                    }
                    doneA = d;
                    totalA = t;
                    accessesA = a;
                });
            } catch (RuntimeException | Error e) {
                legacyFailed[0] = e;
                abort = true;
            }
        }, "compare-" + VmSpec.POLICY_LEGACY + "-" + scenario);
        other.setDaemon(true);
        other.start();
        RunReport pagetrack;
        try {
            pagetrack = sim.run(pagetrackVm, scenario, scale, seed, threads, warmup, model, (d, t, a) -> {
                if (abort) {
                    throw new VmException("stopped: the other run of the comparison failed");
                }
                doneB = d;
                totalB = t;
                accessesB = a;
                show();
            });
            while (other.isAlive()) {
                other.join(POLL_MILLIS);
                show();
            }
        } catch (InterruptedException e) {
            abort = true;
            joinUninterruptibly(other);
            Thread.currentThread().interrupt();
            show(); // a sink that checks the interrupt stops with its own message
            throw new VmException("comparison interrupted: nothing written, both compared VMs removed");
        } catch (RuntimeException | Error e) {
            abort = true;
            joinUninterruptibly(other);
            if (legacyFailed[0] != null && !(legacyFailed[0] instanceof VmException v && v.getMessage().startsWith("stopped:"))) {
                e.addSuppressed(legacyFailed[0]);
            }
            throw e;
        }
        if (legacyFailed[0] instanceof RuntimeException e) {
            throw e;
        }
        if (legacyFailed[0] instanceof Error e) {
            throw e;
        }
        return new Comparison(legacy[0], pagetrack);
    }

    /** Both runs' progress together, to the sink, on the calling thread (where a stop is thrown). */
    private void show() {
        if (shown != null) {
            shown.progress(doneA + doneB, totalA + totalB, accessesA + accessesB);
        }
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
