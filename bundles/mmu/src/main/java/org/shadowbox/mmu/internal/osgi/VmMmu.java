package org.shadowbox.mmu.internal.osgi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

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
abstract class VmMmu<C extends ResultCpu<?>> {
    final Vm vm;
    /** Set once: why this VM's MMU is gone. Read on every guest access (one volatile read). */
    private volatile String gone;
    /** One adapter per vCPU, set by the subclass's constructor ({@link #cpus}). */
    private C[] cpus;

    VmMmu(Vm vm) {
        this.vm = vm;
    }

    /** The vCPU adapters, one per vCPU (once, from the subclass's constructor). */
    final void cpus(C[] all) {
        cpus = all;
    }

    /** vCPU {@code id} as the guest sees memory; one reused object per vCPU. */
    final C cpu(int id) {
        checkLive();
        if (id < 0 || id >= cpus.length) {
            throw new VmException("bad vCPU " + id + " of VM " + vm.name() + ": accepted 0 to " + (cpus.length - 1));
        }
        return cpus[id];
    }

    /** {@link Mmu#shadowPages}. */
    abstract List<ShadowPageInfo> shadowPages();

    /** {@link Mmu#shadowLinks}. */
    abstract List<Mmu.Link> shadowLinks();

    /** {@link Mmu#stats}. */
    abstract List<Mmu.Stat> stats();

    /** {@link Mmu#walk}. */
    abstract Walk walk(int vcpu, long gva);

    /** {@link Mmu#check}. */
    abstract List<String> check();

    /**
     * Runs {@code body} with every vCPU between two accesses if this MMU's checker needs that
     * ({@code kvm_lock_all_vcpus}; TDP), else at once. Taken before the emulation gate and the
     * mmu_lock, the order a vCPU's access takes them in.
     */
    <T> T atSafePoint(Supplier<T> body) {
        return body.get();
    }

    /** {@link #atSafePoint} for an MMU whose vCPUs have a mutex: all of them, in id order, at most {@code timeoutMs} each. */
    final <T> T lockAllVcpus(long timeoutMs, Supplier<T> body) {
        checkLive();
        int held = 0;
        try {
            for (C c : cpus) {
                c.lockSafePoint(timeoutMs);
                held++;
            }
            return body.get();
        } finally {
            while (held > 0) {
                cpus[--held].unlockSafePoint();
            }
        }
    }

    /**
     * {@link Mmu#flush}: {@code kvm_make_request(KVM_REQ_TLB_FLUSH)} to one vCPU, or to every
     * vCPU when {@code vcpu} is -1; each flushes before its next access.
     */
    final void flush(int vcpu) {
        if (vcpu != -1) {
            cpu(vcpu).v.requestTlbFlush();
            return;
        }
        checkLive();
        for (C c : cpus) {
            c.v.requestTlbFlush();
        }
    }

    /** {@link Mmu#stats}' list of an MMU's counters by name. */
    static List<Mmu.Stat> stats(Map<String, Long> counters) {
        List<Mmu.Stat> out = new ArrayList<>();
        for (Map.Entry<String, Long> s : counters.entrySet()) {
            out.add(new Mmu.Stat(s.getKey(), s.getValue()));
        }
        return out;
    }

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
        C[] all = cpus;
        if (all != null) {
            for (C c : all) {
                c.kill(why);
            }
        }
    }
}
