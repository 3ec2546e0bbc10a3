package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.internal.shadow.ShadowMmu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * What the MMU component holds for one VM: its {@link ShadowMmu} and one {@link ShadowGuestCpu}
 * per vCPU, or the reason it does not serve the VM. Once the VM is destroyed or the component
 * deactivated, every call through it fails with one line saying so.
 */
final class VmMmu {
    final Vm vm;
    /** Null when the VM is not served. */
    final ShadowMmu mmu;
    private final ShadowGuestCpu[] cpus;
    private final String refusal;
    /** Set once: why this VM's MMU is gone. Read on every guest access (one volatile read). */
    private volatile String gone;

    private VmMmu(Vm vm, ShadowMmu mmu, String refusal) {
        this.vm = vm;
        this.mmu = mmu;
        this.refusal = refusal;
        this.cpus = new ShadowGuestCpu[mmu == null ? 0 : mmu.vcpuCount()];
        for (int i = 0; i < cpus.length; i++) {
            cpus[i] = new ShadowGuestCpu(this, mmu.vcpu(i));
        }
    }

    static VmMmu served(Vm vm, ShadowMmu mmu) {
        return new VmMmu(vm, mmu, null);
    }

    static VmMmu notServed(Vm vm, String refusal) {
        return new VmMmu(vm, null, refusal);
    }

    boolean served() {
        return mmu != null;
    }

    String refusal() {
        return refusal;
    }

    /** The shadow MMU, or the one-line VmException that says why there is none. */
    ShadowMmu require() {
        checkLive();
        if (mmu == null) {
            throw new VmException(refusal);
        }
        return mmu;
    }

    /** vCPU {@code id} as the guest sees memory. */
    ShadowGuestCpu cpu(int id) {
        require();
        if (id < 0 || id >= cpus.length) {
            throw new VmException("bad vCPU " + id + " of VM " + vm.name() + ": accepted 0 to " + (cpus.length - 1));
        }
        return cpus[id];
    }

    /** Fails, in one line, once the MMU of this VM is gone. */
    void checkLive() {
        String g = gone;
        if (g != null) {
            throw new VmException(g);
        }
    }

    /** From now on every call fails with {@code why}. */
    void kill(String why) {
        gone = why;
    }
}
