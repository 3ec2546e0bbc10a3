package org.shadowbox.guest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.GuestCounts;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The SMP guest on bare metal: each vCPU on its own host thread (or several vCPUs per thread),
 * every scenario completes, the runner's verification passes (it throws otherwise), and what
 * does not depend on the interleaving is what one thread gives. The seed is
 * {@code -Dshadowbox.seed} when set, else a few fixed ones; it is in every message.
 */
class SmpTest {
    private static final List<String> SCENARIOS = List.of("kernel-build", "fork-storm", "pt-reuse", "steady");

    static List<Long> seeds() {
        String s = System.getProperty("shadowbox.seed");
        return s == null ? List.of(1L, 2L, 3L) : List.of(Long.decode(s));
    }

    @Test
    void everyScenarioCompletesOnTwoThreadsWithTheGuestsMemoryIntact() {
        for (long seed : seeds()) {
            for (String scenario : SCENARIOS) {
                String where = scenario + " on 2 threads, seed " + seed;
                ScenarioResult one = Guests.bareMetal(scenario, "64", 2, 1, seed);
                ScenarioResult two = Guests.bareMetal(scenario, "64", 2, 1, seed, 2);
                assertInterleavingFree(where, one.counts(), two.counts());
            }
        }
    }

    @Test
    void severalVcpusPerThreadAndOtherPagingModes() {
        for (long seed : seeds()) {
            for (String paging : List.of("64", "pae", "32")) {
                String where = "kernel-build on 4 vCPUs, 3 threads, " + paging + ", seed " + seed;
                ScenarioResult one = Guests.bareMetal("kernel-build", paging, 4, 1, seed);
                ScenarioResult three = Guests.bareMetal("kernel-build", paging, 4, 1, seed, 3);
                assertEquals(4, three.vcpus(), where);
                assertInterleavingFree(where, one.counts(), three.counts());
            }
        }
    }

    /** One thread is today's interleaving: the threads argument 1 changes nothing. */
    @Test
    void oneThreadIsTheDeterministicInterleaving() {
        for (String scenario : SCENARIOS) {
            ScenarioResult a = Guests.bareMetal(scenario, "64", 2, 1, 21);
            ScenarioResult b = Guests.bareMetal(scenario, "64", 2, 1, 21, 1);
            assertEquals(a.counts(), b.counts(), scenario + " seed 21");
            assertEquals(a.checksum(), b.checksum(), scenario + " seed 21");
        }
    }

    /** A lost write on one of the threads is still caught, and the run stops cleanly on every thread. */
    @Test
    void aLostWriteOnAnyThreadIsCaught() {
        Vm vm = Guests.vm("64", 256L << 20, 2);
        VmException e = assertThrows(VmException.class, () -> Guests.runner().run("kernel-build", vm,
                i -> new LossyCpu(new BareMetalCpu(vm.vcpu(i)), 5000), 1, 4, 2, null));
        assertTrue(e.getMessage().startsWith("scenario kernel-build (seed 4)"), e.getMessage());
        assertTrue(e.getMessage().contains("guest memory view broken"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void badThreadsAreRefusedInOneLine() {
        Vm vm = Guests.vm("64", 64L << 20, 2);
        for (int bad : new int[] {0, -1, 3}) {
            VmException e = assertThrows(VmException.class, () -> Guests.runner().run("steady", vm,
                    i -> new BareMetalCpu(vm.vcpu(i)), 1, 1, bad, null));
            assertEquals("bad threads " + bad + ": accepted 1 to 2 (the VM's vCPUs)", e.getMessage());
        }
    }

    /**
     * The progress listener is called on the calling thread only (which drives vCPU 0 and keeps
     * reporting while it is idle), and "done" only once, at the end.
     */
    @Test
    void progressComesOnTheCallingThreadAndEndsOnce() {
        Vm vm = Guests.vm("64", 256L << 20, 2);
        Thread me = Thread.currentThread();
        List<long[]> seen = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        Guests.runner().run("kernel-build", vm, i -> new BareMetalCpu(vm.vcpu(i)), 1, 5, 2, (done, total, accesses) -> {
            threads.add(Thread.currentThread());
            seen.add(new long[] {done, total, accesses});
        });
        assertTrue(seen.size() > 2, "a tick now and then: " + seen.size());
        assertTrue(threads.stream().allMatch(t -> t == me), threads.toString());
        long doneCalls = seen.stream().filter(p -> p[0] >= p[1]).count();
        assertEquals(1, doneCalls, "done is said once");
        assertTrue(seen.get(seen.size() - 1)[0] == seen.get(seen.size() - 1)[1], "the last report says done");
    }

    /**
     * What the interleaving cannot change: the processes, forks, execs and exits, the files
     * written, and (no TLB on bare metal) no spurious fault; every table freed at the end, which
     * the runner's leak check also enforces.
     */
    static void assertInterleavingFree(String where, GuestCounts one, GuestCounts smp) {
        assertEquals(one.processes(), smp.processes(), where + ": processes");
        assertEquals(one.forks(), smp.forks(), where + ": forks");
        assertEquals(one.execs(), smp.execs(), where + ": execs");
        assertEquals(one.exits(), smp.exits(), where + ": exits");
        assertEquals(one.mmaps(), smp.mmaps(), where + ": mmaps");
        assertEquals(one.munmaps(), smp.munmaps(), where + ": munmaps");
        assertEquals(one.mprotects(), smp.mprotects(), where + ": mprotects");
        assertEquals(0, smp.spuriousFaults(), where + ": bare metal has no stale TLB");
        assertTrue(smp.userAccesses() >= one.userAccesses() * 9 / 10 && smp.userAccesses() <= one.userAccesses() * 11 / 10,
                where + ": user accesses " + smp.userAccesses() + " vs " + one.userAccesses() + " on one thread");
    }
}
