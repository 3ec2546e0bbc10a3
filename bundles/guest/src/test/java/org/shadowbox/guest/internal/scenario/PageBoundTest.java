package org.shadowbox.guest.internal.scenario;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.guest.GuestKernel;
import org.shadowbox.guest.GuestPages;
import org.shadowbox.guest.ScenarioContext;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * Each built-in scenario's {@link GuestPages} holds: the guest kernel's measured peak of
 * allocated frames (boot included) lies between {@code least + 2} and {@code most} plus the
 * boot's bound, for every paging mode, one and three vCPUs, one and two host threads, two scales
 * (64-bit) and a seed per run. Prints how close the upper bound is (the check before a run is only as
 * useful as it is tight).
 */
class PageBoundTest {
    private static final List<GuestScenario> SCENARIOS = List.of(new KernelBuild(), new ForkStorm(), new PtReuse(),
            new Steady());

    @Test
    void theMeasuredPeakLiesWithinEveryScenariosBounds() {
        long seed = 1;
        for (GuestScenario s : SCENARIOS) {
            double worst = 0;
            for (String paging : List.of("64", "pae", "32")) {
                for (int vcpus : new int[] {1, 3}) {
                    for (int threads = 1; threads <= Math.min(2, vcpus); threads++) {
                        for (long scale : paging.equals("64") ? new long[] {1, 3} : new long[] {1}) {
                            seed++;
                            Vm vm = new HypervisorImpl().createVm(VmSpec.pc("g", 256L << 20, vcpus).with(VmSpec.PAGING, paging));
                            Kernel k = run(s, vm, paging, scale, seed, threads);
                            GuestPages need = s.guestPages(scale, vcpus);
                            long boot = Kernel.bootPagesAtMost(Kernel.frames(vm.memslots(), paging), vm.memslots().size());
                            long peak = k.peakPages();
                            String what = s.name() + " paging " + paging + ", " + vcpus + " vCPUs, " + threads
                                    + " threads, scale " + scale + ", seed " + seed + ": peak " + peak + ", least "
                                    + need.least() + ", most " + need.most() + " + boot " + boot;
                            assertTrue(peak <= need.most() + boot, what);
                            assertTrue(peak >= need.least() + 2, what);
                            worst = Math.max(worst, (double) (need.most() + boot) / peak);
                        }
                    }
                }
            }
            System.out.printf("%s: upper bound at most %.1f x the measured peak%n", s.name(), worst);
        }
    }

    private static Kernel run(GuestScenario s, Vm vm, String paging, long scale, long seed, int threads) {
        GuestCpu[] cpus = new GuestCpu[vm.vcpuCount()];
        for (int i = 0; i < cpus.length; i++) {
            cpus[i] = new BareMetalCpu(vm.vcpu(i));
        }
        Kernel k = new Kernel(vm, cpus, paging, seed, threads);
        k.boot();
        s.run(new ScenarioContext() {
            @Override
            public Vm vm() {
                return vm;
            }

            @Override
            public int vcpus() {
                return cpus.length;
            }

            @Override
            public GuestCpu cpu(int i) {
                return cpus[i];
            }

            @Override
            public long scale() {
                return scale;
            }

            @Override
            public long seed() {
                return seed;
            }

            @Override
            public GuestKernel kernel() {
                return k;
            }

            @Override
            public void progress(long done, long total) {
            }
        });
        return k;
    }
}
