package org.shadowbox.mmu.internal.osgi;

import java.util.List;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.ShadowPageInfo;
import org.shadowbox.mmu.Walk;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * What the MMU component holds for one VM: the {@link Mmu} service's calls for that VM, served
 * by the MMU its spec names ({@link ShadowVmMmu}, {@link TdpVmMmu}). Once the VM is destroyed
 * or the component deactivated, every call through it, and through the {@link GuestCpu}s it
 * handed out, fails with one line saying so.
 */
abstract class VmMmu {
    final Vm vm;
    /** Set once: why this VM's MMU is gone. Read on every guest access (one volatile read). */
    private volatile String gone;

    VmMmu(Vm vm) {
        this.vm = vm;
    }

    /** vCPU {@code id} as the guest sees memory; one reused object per vCPU. */
    abstract GuestCpu cpu(int id);

    /** {@link Mmu#shadowPages}. */
    abstract List<ShadowPageInfo> shadowPages();

    /** {@link Mmu#stats}. */
    abstract List<Mmu.Stat> stats();

    /** {@link Mmu#walk}. */
    abstract Walk walk(int vcpu, long gva);

    /** {@link Mmu#check}. */
    abstract List<String> check();

    /** {@link Mmu#flush}: one vCPU, or every vCPU when {@code vcpu} is -1. */
    abstract void flush(int vcpu);

    /**
     * {@code kvm_mmu_uninit_vm} when the component goes: every mapping is zapped (returning
     * the page-track counts and lpage counts a shadow MMU holds) and the hooks forget the VM.
     */
    abstract void release();

    /** Fails, in one line, once the MMU of this VM is gone. */
    final void checkLive() {
        String g = gone;
        if (g != null) {
            throw new VmException(g);
        }
    }

    /** From now on every call fails with {@code why}. */
    final void kill(String why) {
        gone = why;
    }

    /** The one-line refusal of a bad vCPU id. */
    final VmException badVcpu(int id, int count) {
        return new VmException("bad vCPU " + id + " of VM " + vm.name() + ": accepted 0 to " + (count - 1));
    }
}
