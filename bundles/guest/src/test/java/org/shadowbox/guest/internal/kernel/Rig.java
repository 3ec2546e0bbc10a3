package org.shadowbox.guest.internal.kernel;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/** A booted guest kernel on bare-metal vCPUs, and a reference probe set up like its kernel. */
final class Rig {
    final Vm vm;
    final Kernel k;
    final BareMetalCpu probe;
    final List<String> kernelWrites = new ArrayList<>();

    Rig(String paging, long memoryBytes, int vcpus, long seed) {
        vm = new HypervisorImpl().createVm(VmSpec.pc("r", memoryBytes, vcpus).with(VmSpec.PAGING, paging));
        GuestCpu[] cpus = new GuestCpu[vcpus];
        for (int i = 0; i < vcpus; i++) {
            cpus[i] = new Recording(new BareMetalCpu(vm.vcpu(i)), kernelWrites);
        }
        k = new Kernel(vm, cpus, paging, seed);
        k.boot();
        probe = BareMetalCpu.inspector(vm.vcpu(0));
    }

    /** Points the probe at {@code pgd}. */
    BareMetalCpu probe(long pgd) {
        probe.writeRegister(Register.CR3, k.f.cr3(pgd));
        return probe;
    }

    /** Records supervisor writes ("gva/size=value") when asked to. */
    static final class Recording extends ForwardingCpu {
        private final List<String> out;
        boolean on;

        Recording(GuestCpu cpu, List<String> out) {
            super(cpu);
            this.out = out;
        }

        @Override
        public boolean write(long gva, long value, int size, boolean user) {
            if (!user && on) {
                out.add(Long.toHexString(gva) + "/" + size + "=" + Long.toHexString(value));
            }
            return super.write(gva, value, size, user);
        }
    }
}
