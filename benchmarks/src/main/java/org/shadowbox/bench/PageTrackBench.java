package org.shadowbox.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.internal.OwnerTrack;
import org.shadowbox.vm.Vm;

/**
 * kvm_slot_page_track_is_active, and add then remove of an untracked gfn with no
 * mappings (no MMU hook installed). Targets (issue 5): isActive at most 5 ns,
 * add + remove at most 100 ns.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PageTrackBench {
    private static final long TRACKED = 0x1234;
    private static final long UNTRACKED = 0x1_2345;

    private Vm vm;
    private OwnerTrack track;

    @Setup
    public void setup() {
        Sandbox box = new Sandbox();
        vm = box.vm;
        track = box.pageTrack.forOwner("bench");
        track.add(vm, TRACKED, TrackMode.WRITE);
    }

    @Benchmark
    public boolean isActiveTracked() {
        return track.isActive(vm, TRACKED, TrackMode.WRITE);
    }

    @Benchmark
    public boolean isActiveUntracked() {
        return track.isActive(vm, UNTRACKED, TrackMode.WRITE);
    }

    @Benchmark
    public boolean addThenRemove() {
        track.add(vm, UNTRACKED, TrackMode.WRITE);
        return track.remove(vm, UNTRACKED, TrackMode.WRITE);
    }
}
