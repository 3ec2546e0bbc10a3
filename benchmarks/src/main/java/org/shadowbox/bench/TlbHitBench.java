package org.shadowbox.bench;

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
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * A guest read that hits the vCPU's TLB: an 8-byte user read at a random gva of 64 pages
 * (the TLB model's 64 entries, all filled) through the MMU service's {@link GuestCpu}, beside
 * the floor, a random read of a plain {@code long[]} of the same 256 KiB, in the same run.
 * Under both MMUs; a read that hits goes without the vCPU's mutex under TDP too (it changes
 * nothing the checker reads), a store takes it ({@link #guestWriteTlbHit}).
 *
 * <p>Forks: 8, because a JVM's hit speed changes in steps and the steps differ from JVM to JVM:
 * ten forks of the shadow read hit at 23:05 UTC on 2026-12-06 had means from 120 to 207 M/s
 * while the plain read held 517-551 M/s in all ten; the eight forks of {@code bench/issue15.sh}
 * at 23:28 all ran at 205-214 M/s. In one JVM examined with {@code -XX:+PrintInlining}, the step
 * down (190 to 110 M/s) came when C2's compile of JMH's loop replaced the on-stack-replacement
 * one, with the same inlining tree; so a step is the code C2 made of the loop, not a call left
 * in it. With {@code -XX:LoopUnrollLimit=0} (a diagnostic, not how the benchmark is measured)
 * eight forks of eight ran at 184-210 M/s, which points at the loop's unrolling without proving
 * it. The mean over many forks is the figure, with {@code bench/issue15.sh}'s interval
 * (docs/benchmarks.md, "Forks").
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(8)
public class TlbHitBench {
    private static final int PAGES = 64;
    private static final int WORDS = PAGES * 512;

    @Param({"shadow", "tdp"})
    public String mmu;

    private GuestCpu cpu;
    private long[] plain;
    private long x = 0x9e3779b97f4a7c15L;

    @Setup
    public void setup() {
        MmuSandbox s = new MmuSandbox(0);
        Vm vm = s.hypervisor.createVm(VmSpec.pc("bench", 256L << 20, 1).with(VmSpec.MMU, mmu));
        MmuSandbox.buildTables(vm, 0x1000, 1, 0x2000, PAGES);
        cpu = s.mmu.cpu(vm, 0);
        for (int p = 0; p < PAGES; p++) {
            if (!cpu.write(MmuSandbox.GVA + ((long) p << 12), p, 8, true) || !cpu.read(MmuSandbox.GVA + ((long) p << 12), 8, true)) {
                throw new IllegalStateException("warm-up access to page " + p + " faulted");
            }
        }
        long before = tlbHits(s, vm);
        for (int p = 0; p < PAGES; p++) {
            cpu.read(MmuSandbox.GVA + ((long) p << 12) + 8, 8, true);
        }
        if (tlbHits(s, vm) - before != PAGES) {
            throw new IllegalStateException("the TLB does not hold the " + PAGES + " pages");
        }
        plain = new long[WORDS];
    }

    private static long tlbHits(MmuSandbox s, Vm vm) {
        return s.mmu.stats(vm).stream().filter(st -> st.name().equals("tlb_hit")).findFirst().orElseThrow().value();
    }

    private int next() {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return (int) (x & (WORDS - 1));
    }

    @Benchmark
    public long guestReadTlbHit() {
        cpu.read(MmuSandbox.GVA + ((long) next() << 3), 8, true);
        return cpu.value();
    }

    /**
     * The same, a store: under both MMUs it enters guest mode ({@code VcpuMode}, one full fence)
     * around the store, and under TDP it also takes the vCPU's mutex (the checker's safe point).
     */
    @Benchmark
    public boolean guestWriteTlbHit() {
        int w = next();
        return cpu.write(MmuSandbox.GVA + ((long) w << 3), w, 8, true);
    }

    @Benchmark
    public long plainLongArrayRead() {
        return plain[next()];
    }
}
