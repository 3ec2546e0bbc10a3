package org.shadowbox.run.internal;

import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.shadowbox.command.Interrupts;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.vm.VmException;

/**
 * Scenario runs in the background ({@code run:scenario ... --background}): each on a daemon
 * thread of its own, so that the shell stays free while a VM works (to hot-install a tracker,
 * watch {@code plugin:list} move, look at the MMU). The run claims its VM's vCPUs as any run
 * does, so nothing else drives them meanwhile. {@code run:jobs} lists the runs with their
 * progress, {@code run:report} waits for one and gives its report, {@code run:stop} asks one to
 * stop at its next progress report (the guest is left as it was; the VM keeps running).
 *
 * <p>Bounded: a running job holds its VM's vCPUs, so there is at most one per VM; of the finished
 * ones the newest {@link #KEEP_FINISHED} are kept (with their reports) and older ones are
 * dropped, oldest first, when a run starts. Asking for a dropped one says so in one line.
 */
final class RunJobs {
    /** Finished runs kept for run:jobs and run:report (their reports are also saved in workspace/results). */
    static final int KEEP_FINISHED = 100;
    /** How long {@link #close} waits for each run to notice it was stopped. */
    private static final long CLOSE_WAIT_MILLIS = 2000;
    /** How often {@link #await} looks whether Ctrl-C was pressed. */
    private static final long WAIT_POLL_MILLIS = 50;

    private final Map<Integer, Job> jobs = new ConcurrentSkipListMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final int keepFinished;
    /** The highest id dropped to keep {@link #keepFinished}; 0 if none was. */
    private volatile int droppedUpTo;
    /** How many finished runs were dropped. */
    private volatile int dropped;

    RunJobs() {
        this(KEEP_FINISHED);
    }

    /** @param keepFinished finished runs kept (at least 1) */
    RunJobs(int keepFinished) {
        if (keepFinished < 1) {
            throw new IllegalArgumentException("keepFinished " + keepFinished + " < 1");
        }
        this.keepFinished = keepFinished;
    }

    /** One background run. Fields written by its thread are volatile: the shell reads them. */
    static final class Job implements ScenarioRunner.Progress {
        final int id;
        final String vm;
        final String scenario;
        final LocalTime started = LocalTime.now().truncatedTo(ChronoUnit.SECONDS);
        final CountDownLatch finished = new CountDownLatch(1);
        /** Counted down at the first progress report (the guest has booted on the claimed vCPUs) or at the end. */
        final CountDownLatch begun = new CountDownLatch(1);
        volatile long done;
        volatile long total;
        volatile long accesses;
        volatile boolean stopRequested;
        volatile RunReport report;
        volatile String error;
        /** Where its report was saved when it ended (null until then, or if it could not be written). */
        volatile String file;

        Job(int id, String vm, String scenario) {
            this.id = id;
            this.vm = vm;
            this.scenario = scenario;
        }

        @Override
        public void progress(long d, long t, long a) {
            done = d;
            total = t;
            accesses = a;
            begun.countDown();
            if (stopRequested) {
                throw new VmException("stopped by run:stop " + id);
            }
        }

        /** running, done, failed or stopped. */
        String state() {
            if (finished.getCount() > 0) {
                return stopRequested ? "stopping" : "running";
            }
            if (report != null) {
                return "done";
            }
            return stopRequested ? "stopped" : "failed";
        }

        /** Per cent of the scenario's units done. */
        long percent() {
            long t = total;
            return t <= 0 ? 0 : Math.min(100, done * 100 / t);
        }
    }

    /**
     * Starts {@code run} (given the job's progress listener) on a thread of its own and returns
     * once the run has begun: its vCPUs are claimed and its guest booted (or it already ended), so
     * that whatever the shell does next finds the VM busy.
     */
    Job start(String vm, String scenario, Function<Job, RunReport> run) throws InterruptedException {
        Job job = new Job(ids.incrementAndGet(), vm, scenario);
        jobs.put(job.id, job);
        prune();
        Thread t = new Thread(() -> {
            try {
                job.report = run.apply(job);
            } catch (VmException e) {
                job.error = e.getMessage();
            } catch (RuntimeException | LinkageError | AssertionError e) {
                job.error = "run " + job.id + " failed: " + e;
            } finally {
                job.finished.countDown();
                job.begun.countDown();
            }
        }, "shadowbox-run-" + job.id + "-" + vm + "-" + scenario);
        t.setDaemon(true);
        t.start();
        job.begun.await();
        return job;
    }

    /** Drops the oldest finished jobs beyond {@link #keepFinished}. */
    private synchronized void prune() {
        List<Job> finished = new ArrayList<>();
        for (Job j : jobs.values()) { // ascending ids: oldest first
            if (j.finished.getCount() == 0) {
                finished.add(j);
            }
        }
        for (int i = 0; i < finished.size() - keepFinished; i++) {
            Job j = finished.get(i);
            jobs.remove(j.id);
            droppedUpTo = Math.max(droppedUpTo, j.id);
            dropped++;
        }
    }

    /** Finished runs dropped so far to keep the newest {@link #keepFinished}. */
    int dropped() {
        return dropped;
    }

    int keepFinished() {
        return keepFinished;
    }

    /** Drops a job that never ran (its command failed instead), so that run:jobs does not list it. */
    void forget(int id) {
        jobs.remove(id);
    }

    List<Job> list() {
        return new ArrayList<>(jobs.values());
    }

    /** The job of that id, or a one-line error listing the ids there are. */
    Job require(int id) {
        Job j = jobs.get(id);
        if (j == null && id > 0 && id <= droppedUpTo) {
            throw new VmException("run " + id + " is no longer kept: run:jobs keeps the newest " + keepFinished
                    + " finished background runs; its report was saved in workspace/results when it ended");
        }
        if (j == null) {
            throw new VmException("no background run " + id + ": "
                    + (jobs.isEmpty() ? "none was started (run:scenario ... --background)"
                            : "accepted " + String.join(", ", jobs.keySet().stream().map(String::valueOf).toList())));
        }
        return j;
    }

    /**
     * Waits for job {@code id} and returns its report, or throws its one-line error. Ctrl-C stops
     * the waiting with one line and leaves the run going.
     */
    RunReport await(int id) {
        Job j = require(id);
        CountDownLatch ctrlC = new CountDownLatch(1);
        try (Interrupts.Registration r = Interrupts.register(ctrlC::countDown)) {
            while (!j.finished.await(WAIT_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (ctrlC.getCount() == 0) {
                    throw stoppedWaiting(j);
                }
            }
        } catch (InterruptedException e) {
            throw stoppedWaiting(j); // Gogo's own Ctrl-C; the flag stays cleared: the terminal's channel must live
        }
        if (j.report == null) {
            throw new VmException("run " + id + " (" + j.scenario + " on " + j.vm + ") " + j.state() + ": " + j.error);
        }
        return j.report;
    }

    private static VmException stoppedWaiting(Job j) {
        return new VmException("stopped waiting for run " + j.id + " at " + j.percent() + "%: it runs on (run:report "
                + j.id + " waits again, run:stop " + j.id + " stops it)");
    }

    /** A new run id, for a foreground run: background and foreground runs count together. */
    int nextId() {
        return ids.incrementAndGet();
    }

    /** Asks job {@code id} to stop at its next progress report; a finished job is left as it is. */
    Job stop(int id) {
        Job j = require(id);
        if (j.finished.getCount() > 0) {
            j.stopRequested = true;
        }
        return j;
    }

    /** Stops every running job and waits a little for each (the bundle is going away). */
    void close() throws InterruptedException {
        for (Job j : jobs.values()) {
            j.stopRequested = true;
        }
        for (Job j : jobs.values()) {
            j.finished.await(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }
    }
}
