package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * A comparison's two runs at the same time ({@link PairRun}): the same figures as one after the
 * other, one progress stream on the calling thread, and a stop or a failure of either run ends
 * both, removes both VMs and leaves no thread behind.
 */
class PairRunTest {

    /** A sink that records what it hears, on which thread, and throws from the {@code stopAt}-th report on. */
    static final class Sink implements Simulator.ProgressSink {
        final List<String> labels = new ArrayList<>();
        final AtomicInteger reports = new AtomicInteger();
        final List<Thread> threads = new ArrayList<>();
        final int stopAt;
        int done;

        Sink(int stopAt) {
            this.stopAt = stopAt;
        }

        @Override
        public ScenarioRunner.Progress start(String label) {
            labels.add(label);
            return (d, t, a) -> {
                synchronized (threads) {
                    if (!threads.contains(Thread.currentThread())) {
                        threads.add(Thread.currentThread());
                    }
                }
                if (reports.incrementAndGet() >= stopAt) {
                    throw new VmException("stopped by the test");
                }
            };
        }

        @Override
        public void done() {
            done++;
        }
    }

    static Comparison compare(SimRig rig, Simulator.ProgressSink sink) {
        return rig.sim.compare("kernel-build", 1, 5, VmSpec.MMU_SHADOW, 1, 4, 256L << 20, 0, CostModel.defaults(), sink);
    }

    @Test
    void atTheSameTimeTheRunsGiveWhatTheyGiveAloneAndProgressIsHeardOnTheCallingThread() {
        SimRig rig = new SimRig();
        Sink sink = new Sink(Integer.MAX_VALUE);
        Comparison c = compare(rig, sink);
        assertEquals(List.of("legacy + pagetrack"), sink.labels);
        assertEquals(1, sink.done);
        assertEquals(List.of(Thread.currentThread()), sink.threads, "progress only on the calling thread");
        // each policy alone, on this thread, in a VM of the same shape
        for (RunReport r : new RunReport[] {c.before(), c.after()}) {
            SimRig alone = new SimRig();
            var vm = alone.hv.createVm(VmSpec.pc("alone", 256L << 20, 4).with(VmSpec.POLICY, r.policy()));
            RunReport a = alone.sim.run(vm, "kernel-build", 1, 5, 1, 0, CostModel.defaults(), null);
            assertEquals(a.mmuStats(), r.mmuStats(), r.policy());
            assertEquals(a.counts(), r.counts(), r.policy());
            assertEquals(a.checksum(), r.checksum(), r.policy());
            assertEquals(a.time().totalCycles(), r.time().totalCycles(), r.policy());
        }
        assertTrue(rig.hv.vms().isEmpty(), "both VMs removed: " + rig.hv.vms());
    }

    @Test
    void aStopEndsBothRunsAndRemovesBothVms() throws Exception {
        SimRig rig = new SimRig();
        Sink sink = new Sink(3);
        VmException e = assertThrows(VmException.class, () -> compare(rig, sink));
        assertEquals("stopped by the test", e.getMessage());
        assertTrue(rig.hv.vms().isEmpty(), "both VMs removed: " + rig.hv.vms());
        assertEquals(1, sink.done);
        assertFalse(otherRunAlive(), "the legacy run's thread ended");
    }

    @Test
    void aFailingRunEndsTheOtherAndItsErrorIsTheComparisons() {
        SimRig rig = new SimRig();
        // a warm-up no smaller than the scenario's units fails each run once it says how many it has
        VmException e = assertThrows(VmException.class, () -> rig.sim.compare("kernel-build", 1, 5, VmSpec.MMU_SHADOW,
                1, 4, 256L << 20, 1_000_000, CostModel.defaults(), null));
        assertTrue(e.getMessage().startsWith("bad --warmup 1000000"), e.getMessage());
        assertTrue(rig.hv.vms().isEmpty(), "both VMs removed: " + rig.hv.vms());
        assertFalse(otherRunAlive(), "the legacy run's thread ended");
    }

    private static boolean otherRunAlive() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("compare-legacy-") && t.isAlive()) {
                return true;
            }
        }
        return false;
    }
}
