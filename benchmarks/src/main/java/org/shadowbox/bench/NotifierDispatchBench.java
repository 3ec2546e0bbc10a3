package org.shadowbox.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;

/**
 * An emulated write to a tracked page (emulator_write_phys: store, then
 * kvm_page_track_write through the guard to N notifiers). Targets (issue 5): at least
 * 5 million per second with 1 notifier, each further notifier at most 20 ns.
 *
 * <p>{@code mode=direct} is the default path (notifiers called on the vCPU thread);
 * {@code mode=isolated} puts every notifier under {@code guard.isolate}, so each call is handed
 * to the notifier's courier thread and waited for: the price of being able to leave a hung
 * tracker behind. It needs a second core to be cheap; on a loaded machine it is not.
 *
 * <p>Forks: 5. With 3, JMH's error was over 10% of the score at 0, 2 and 4 notifiers (36%, 13%,
 * 12%: forks apart by up to 16%, 21:12 UTC, 2026-12-06).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(5)
public class NotifierDispatchBench {
    private static final long GFN = 0x1234;

    @Param({"0", "1", "2", "4", "8"})
    public int notifiers;

    @Param({"direct", "isolated"})
    public String mode;

    private Vcpu vcpu;
    private long value;

    /** A tracker that does what a real one must at least do: check the gpa is its own. */
    static final class Counting implements PageTrackNotifier {
        long hits;

        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long v, int bytes) {
            if ((gpa >>> 12) == GFN) {
                hits += v & 1;
            }
        }
    }

    @Setup
    public void setup() {
        Sandbox box = new Sandbox();
        box.pageTrack.setIsolate(mode.equals("isolated") ? List.of("*") : List.of());
        box.pageTrack.forOwner("bench").add(box.vm, GFN, TrackMode.WRITE);
        for (int i = 0; i < notifiers; i++) {
            box.pageTrack.register(new Counting(), "bench" + i);
        }
        vcpu = box.vm.vcpu(0);
    }

    @Benchmark
    public void emulatedWrite() {
        vcpu.emulatorWritePhys((GFN << 12) + 0x18, value++, 8);
    }
}
