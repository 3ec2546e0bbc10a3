package org.shadowbox.guest.internal;

import java.util.List;

import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.guest.internal.scenario.ForkStorm;
import org.shadowbox.guest.internal.scenario.KernelBuild;
import org.shadowbox.guest.internal.scenario.PtReuse;
import org.shadowbox.guest.internal.scenario.Steady;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/** Test wiring: a fresh VM on the real hypervisor, the built-in scenarios, runs on bare metal. */
final class Guests {
    private Guests() {
    }

    static Runner runner() {
        Runner r = new Runner();
        for (var s : List.of(new KernelBuild(), new ForkStorm(), new PtReuse(), new Steady())) {
            r.add(s);
        }
        return r;
    }

    static Vm vm(String paging, long memoryBytes, int vcpus) {
        return new HypervisorImpl().createVm(VmSpec.pc("g", memoryBytes, vcpus).with(VmSpec.PAGING, paging));
    }

    /** Runs {@code scenario} on bare-metal vCPUs of a fresh VM. */
    static ScenarioResult bareMetal(String scenario, String paging, int vcpus, long scale, long seed) {
        Vm vm = vm(paging, 256L << 20, vcpus);
        return runner().run(scenario, vm, i -> new BareMetalCpu(vm.vcpu(i)), scale, seed, null);
    }

    /** The same on {@code threads} host threads. */
    static ScenarioResult bareMetal(String scenario, String paging, int vcpus, long scale, long seed, int threads) {
        Vm vm = vm(paging, 256L << 20, vcpus);
        return runner().run(scenario, vm, i -> new BareMetalCpu(vm.vcpu(i)), scale, seed, threads, null);
    }
}
