package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.tdp.TdpVcpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * One vCPU of a TDP VM as {@link GuestCpu}: an adapter over {@link TdpVcpu}, whose accesses go
 * TLB, the guest's own walk and the TDP walk "in hardware", then the TDP fault handler on a
 * violation. As {@link ShadowGuestCpu}: the outcome lives in one reused result
 * ({@link ResultCpu}), and the only extra work per access is one volatile read.
 */
final class TdpGuestCpu extends ResultCpu {
    private final TdpVcpu v;

    TdpGuestCpu(VmMmu owner, TdpVcpu v) {
        super(owner);
        this.v = v;
    }

    @Override
    public Vcpu vcpu() {
        return v.vcpu();
    }

    @Override
    public boolean read(long gva, int size, boolean user) {
        owner.checkLive();
        return v.read(gva, size, user, last).ok();
    }

    @Override
    public boolean write(long gva, long value, int size, boolean user) {
        owner.checkLive();
        return v.write(gva, value, size, user, last).ok();
    }

    @Override
    public boolean fetch(long gva, int size, boolean user) {
        owner.checkLive();
        return v.fetch(gva, size, user, last).ok();
    }

    /**
     * Under EPT a {@code mov} to CR3 does not exit: the processor loads it and flushes the vCPU's
     * TLB ({@link TdpVcpu#writeCr3}). CR0, CR4 and EFER are stored; the paging-mode change
     * flushes the TLB at the next access.
     */
    @Override
    public void writeRegister(Register r, long value) {
        owner.checkLive();
        v.writeRegister(r, value);
    }

    /** {@code invlpg}: no exit under EPT; the processor drops the vCPU's translations. */
    @Override
    public void invlpg(long gva) {
        owner.checkLive();
        v.invlpg(gva);
    }

    TdpVcpu tdpVcpu() {
        return v;
    }
}
