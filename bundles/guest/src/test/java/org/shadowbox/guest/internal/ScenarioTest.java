package org.shadowbox.guest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.GuestCounts;
import org.shadowbox.guest.GuestKernel;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.ScenarioContext;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/** The scenarios on bare metal: they finish, the guest's memory is intact, and the same seed does the same thing. */
class ScenarioTest {

    @Test
    void theSameSeedGivesTheSameCountsAndMemory() {
        ScenarioResult a = Guests.bareMetal("kernel-build", "64", 2, 1, 7);
        ScenarioResult b = Guests.bareMetal("kernel-build", "64", 2, 1, 7);
        assertEquals(a.counts(), b.counts(), "seed 7");
        assertEquals(a.checksum(), b.checksum(), "seed 7");
        ScenarioResult c = Guests.bareMetal("kernel-build", "64", 2, 1, 8);
        assertNotEquals(a.checksum(), c.checksum(), "another seed writes other values");
    }

    @Test
    void everyScenarioDeterministicToo() {
        for (String s : List.of("fork-storm", "pt-reuse", "steady")) {
            ScenarioResult a = Guests.bareMetal(s, "64", 3, 1, 11);
            ScenarioResult b = Guests.bareMetal(s, "64", 3, 1, 11);
            assertEquals(a.counts(), b.counts(), s + " seed 11");
            assertEquals(a.checksum(), b.checksum(), s + " seed 11");
        }
    }

    @Test
    void kernelBuildForksExecsAndExitsEveryUnit() {
        GuestCounts c = Guests.bareMetal("kernel-build", "64", 2, 1, 1).counts();
        assertEquals(8, c.forks());
        assertEquals(8, c.execs());
        assertEquals(9, c.exits(), "make and its 8 compilers");
        assertEquals(0, c.spuriousFaults(), "bare metal has no TLB to be stale");
        assertTrue(c.cowFaults() > 0 && c.zeroPageFaults() > 0 && c.fileFaults() > 0 && c.anonFaults() > 0, c.toString());
        assertTrue(c.munmaps() > 0 && c.mprotects() == 8 && c.invlpgs() > 0, c.toString());
        assertEquals(c.ptPagesAllocated() - 4, c.ptPagesFreed(), "every process table freed; 4 boot tables stay");
    }

    @Test
    void kernelBuildRunsOnPaeAndThirtyTwoBitGuests() {
        for (String paging : List.of("pae", "32")) {
            ScenarioResult r = Guests.bareMetal("kernel-build", paging, 2, 1, 3);
            assertEquals(paging, r.paging());
            assertEquals(9, r.counts().exits(), paging);
        }
    }

    @Test
    void ptReuseGivesFreedPageTablePagesBackAsData() {
        for (String paging : List.of("64", "pae", "32")) {
            // One vCPU, one process, 2 rounds: 64 PTE tables freed by munmap each round, then 96
            // data pages taken last-freed-first: those tables come back as data, but for the one
            // or two the dense mapping takes for its own page tables.
            GuestCounts c = Guests.bareMetal("pt-reuse", paging, 1, 1, 5).counts();
            assertTrue(c.ptPagesReusedAsData() >= 2 * 62, paging + ": " + c.ptPagesReusedAsData() + " reused");
            GuestCounts two = Guests.bareMetal("pt-reuse", paging, 2, 1, 5).counts();
            assertTrue(two.ptPagesReusedAsData() > 2 * 64, paging + " on 2 vCPUs: " + two.ptPagesReusedAsData() + " reused");
        }
    }

    @Test
    void forkStormAndSteadyFinish() {
        GuestCounts f = Guests.bareMetal("fork-storm", "64", 2, 1, 9).counts();
        assertEquals(32, f.forks());
        assertEquals(0, f.execs());
        assertTrue(f.cowFaults() > 32 && f.reuseFaults() > 0, f.toString());
        GuestCounts s = Guests.bareMetal("steady", "64", 2, 2, 9).counts();
        assertEquals(1, s.processes());
        assertTrue(s.pteWrites() * 100 < s.userAccesses(), "few table writes: " + s);
    }

    /** A vCPU that loses one user write in 5000: the guest must notice. */
    @Test
    void aLostWriteIsCaught() {
        Vm vm = Guests.vm("64", 256L << 20, 2);
        VmException e = assertThrows(VmException.class, () -> Guests.runner().run("kernel-build", vm,
                i -> new LossyCpu(new BareMetalCpu(vm.vcpu(i)), 5000), 1, 4, null));
        assertTrue(e.getMessage().startsWith("scenario kernel-build (seed 4)"), e.getMessage());
        assertTrue(e.getMessage().contains("guest memory view broken"), e.getMessage());
    }

    @Test
    void badRequestsAreRefusedInOneLine() {
        Vm vm = Guests.vm("64", 256L << 20, 1);
        VmException e = assertThrows(VmException.class, () -> Guests.runner().run("kernelbuild", vm,
                i -> new BareMetalCpu(vm.vcpu(i)), 1, 1, null));
        assertEquals("no scenario named 'kernelbuild': the scenarios are fork-storm, kernel-build, pt-reuse, steady", e.getMessage());
        e = assertThrows(VmException.class, () -> Guests.runner().run("steady", vm, i -> new BareMetalCpu(vm.vcpu(i)), 0, 1, null));
        assertEquals("bad scale 0: accepted 1 or more", e.getMessage());
        Vm tiny = Guests.vm("64", 4L << 20, 1);
        e = assertThrows(VmException.class, () -> Guests.runner().run("kernel-build", tiny,
                i -> new BareMetalCpu(tiny.vcpu(i)), 1, 1, null));
        assertTrue(e.getMessage().contains("guest out of memory"), e.getMessage());
    }

    /** A scenario from another bundle, using only the API: pages written and read by the guest kernel. */
    @Test
    void aForeignScenarioRunsOnTheKernelApi() {
        Runner r = Guests.runner();
        List<long[]> progress = new ArrayList<>();
        r.add(new Scenario() {
            @Override
            public String name() {
                return "gpu-driver";
            }

            @Override
            public String description() {
                return "test";
            }

            @Override
            public long defaultScale() {
                return 1;
            }

            @Override
            public void run(ScenarioContext ctx) {
                GuestKernel k = ctx.kernel();
                long gfn = k.allocPage();
                for (int i = 0; i < 512; i++) {
                    k.write(i % ctx.vcpus(), gfn << 12 | 8L * i, i * 3L, 8);
                }
                for (int i = 0; i < 512; i++) {
                    if (k.read(0, gfn << 12 | 8L * i, 8) != i * 3L) {
                        throw new IllegalStateException("entry " + i + " lost");
                    }
                }
                k.freePage(gfn);
                ctx.progress(1, 1);
            }
        });
        Vm vm = Guests.vm("64", 64L << 20, 2);
        ScenarioResult res = r.run("gpu-driver", vm, i -> new BareMetalCpu(vm.vcpu(i)), 1, 1,
                (done, total, accesses) -> progress.add(new long[] {done, total, accesses}));
        assertTrue(res.counts().kernelAccesses() >= 1024, res.toString());
        assertEquals(1, progress.size());
        assertEquals(1, progress.get(0)[0]);
    }

    /** A run claims every vCPU: a shell command, or a second run, cannot drive one meanwhile. */
    @Test
    void aRunHoldsEveryVcpuAndABusyVmRefusesASecondRunUntouched() {
        Vm vm = Guests.vm("64", 256L << 20, 2);
        List<String> seenDuring = new ArrayList<>();
        ScenarioResult first = Guests.runner().run("steady", vm, i -> new BareMetalCpu(vm.vcpu(i)), 1, 1,
                (done, total, accesses) -> {
                    if (seenDuring.isEmpty()) {
                        seenDuring.add(vm.vcpu(0).claimedBy());
                        seenDuring.add(vm.vcpu(1).claimedBy());
                        VmException busy = assertThrows(VmException.class, () -> Guests.runner().run("steady", vm,
                                i -> new BareMetalCpu(vm.vcpu(i)), 1, 2, null));
                        seenDuring.add(busy.getMessage());
                    }
                });
        assertEquals("scenario steady (seed 1)", seenDuring.get(0));
        assertEquals("scenario steady (seed 1)", seenDuring.get(1));
        assertTrue(seenDuring.get(2).startsWith("vCPU 0 of VM g is busy: scenario steady (seed 1) has it since"),
                seenDuring.get(2));
        assertNull(vm.vcpu(0).claimedBy(), "released at the end");
        assertNull(vm.vcpu(1).claimedBy(), "released at the end");
        // The refused run changed nothing: the first run verified its memory after it.
        ScenarioResult again = Guests.bareMetal("steady", "64", 2, 1, 1);
        assertEquals(again.checksum(), first.checksum());
        assertEquals(again.counts(), first.counts());
    }

    @Test
    void aRunOnAVcpuTheShellHoldsIsRefusedAndTheVcpuStaysTheShells() {
        Vm vm = Guests.vm("64", 256L << 20, 2);
        try (var held = vm.vcpu(1).claim("the shell's cpu:write")) {
            VmException e = assertThrows(VmException.class, () -> Guests.runner().run("steady", vm,
                    i -> new BareMetalCpu(vm.vcpu(i)), 1, 1, null));
            assertTrue(e.getMessage().startsWith("vCPU 1 of VM g is busy: the shell's cpu:write has it since"),
                    e.getMessage());
            assertNull(vm.vcpu(0).claimedBy(), "the claim of vCPU 0 made before the refusal was released");
            assertEquals("the shell's cpu:write", vm.vcpu(1).claimedBy());
            assertEquals(0, vm.stats().residentPages(), "nothing booted");
        }
    }
}
