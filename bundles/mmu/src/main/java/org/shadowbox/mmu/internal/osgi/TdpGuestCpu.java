package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.tdp.TdpVcpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * One vCPU of a TDP VM as {@link GuestCpu}: an adapter over {@link TdpVcpu}, whose accesses go
 * TLB, the guest's own walk and the TDP walk "in hardware", then the TDP fault handler on a
 * violation. As {@link ShadowGuestCpu}: the outcome lives in one reused {@link AccessResult},
 * and the only extra work per access is one volatile read (is the MMU still there).
 */
final class TdpGuestCpu implements GuestCpu {
    private final VmMmu owner;
    private final TdpVcpu v;
    private final AccessResult last = new AccessResult();

    TdpGuestCpu(VmMmu owner, TdpVcpu v) {
        this.owner = owner;
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

    @Override
    public long value() {
        return last.value;
    }

    @Override
    public int exception() {
        return last.exception;
    }

    @Override
    public int errorCode() {
        return last.errorCode;
    }

    @Override
    public long gpa() {
        return last.gpa;
    }

    @Override
    public boolean emulated() {
        return last.emulated;
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
