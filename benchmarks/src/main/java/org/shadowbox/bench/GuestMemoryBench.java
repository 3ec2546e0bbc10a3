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
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * A host-side 8-byte read of guest memory at a random gpa of 64 MiB of touched RAM
 * (memslot lookup, sparse page lookup, little-endian load), beside the floor: a random
 * read of a plain {@code long[]} of the same size, in the same run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GuestMemoryBench {
    private static final int BYTES = 64 << 20;
    private static final long BASE = 0x100_000; // slot 1 of the PC layout

    private GuestMemory mem;
    private long[] plain;
    private long x = 0x9e3779b97f4a7c15L;

    @Setup
    public void setup() {
        mem = new HypervisorImpl().createVm(VmSpec.pc("bench", 1L << 30, 1)).memory();
        byte[] fill = new byte[BYTES];
        for (int i = 0; i < BYTES; i++) {
            fill[i] = (byte) i;
        }
        mem.write(BASE, fill, 0, BYTES);
        plain = new long[BYTES / 8];
    }

    private int next() {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return (int) (x & ((BYTES / 8) - 1));
    }

    @Benchmark
    public long guestRead() {
        return mem.read(BASE + ((long) next() << 3), 8);
    }

    @Benchmark
    public long plainLongArrayRead() {
        return plain[next()];
    }
}
