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
 * by the MMU its spec names ({@link ShadowVmMmu}, {@link TdpVmMmu}) or refused in one line
 * ({@link #notServed}). Once the VM is destroyed or the component deactivated, every call
 * through it, and through the {@link GuestCpu}s it handed out, fails with one line saying so.
 */
abstract class VmMmu {
    final Vm vm;
    /** Set once: why this VM's MMU is gone. Read on every guest access (one volatile read). */
    private volatile String gone;

    VmMmu(Vm vm) {
        this.vm = vm;
    }

    /** A VM this build cannot serve: every call fails with {@code refusal}. */
    static VmMmu notServed(Vm vm, String refusal) {
        return new NotServed(vm, refusal);
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

    /** A VM that asks for what does not exist: every call fails with the refusal. */
    private static final class NotServed extends VmMmu {
        private final String refusal;

        NotServed(Vm vm, String refusal) {
            super(vm);
            this.refusal = refusal;
        }

        private VmException refused() {
            checkLive();
            return new VmException(refusal);
        }

        @Override
        GuestCpu cpu(int id) {
            throw refused();
        }

        @Override
        List<ShadowPageInfo> shadowPages() {
            throw refused();
        }

        @Override
        List<Mmu.Stat> stats() {
            throw refused();
        }

        @Override
        Walk walk(int vcpu, long gva) {
            throw refused();
        }

        @Override
        List<String> check() {
            throw refused();
        }

        @Override
        void flush(int vcpu) {
            throw refused();
        }

        @Override
        void release() {
        }
    }
}
