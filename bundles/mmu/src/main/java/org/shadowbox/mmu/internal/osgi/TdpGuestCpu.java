package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.tdp.TdpVcpu;
import org.shadowbox.vm.Register;

/**
 * One vCPU of a TDP VM as {@link GuestCpu}: an adapter over {@link TdpVcpu}, whose accesses go
 * TLB, the guest's own walk and the TDP walk "in hardware", then the TDP fault handler on a
 * violation ({@link ResultCpu} does the accesses).
 */
final class TdpGuestCpu extends ResultCpu<TdpVcpu> {
    /** {@link #v} as its final class, for the TLB-hit fast path ({@link ResultCpu#readHit}). */
    private final TdpVcpu fast;

    TdpGuestCpu(VmMmu<?> owner, TdpVcpu v) {
        super(owner, v, true); // the TDP checker's (f) needs each vCPU between accesses
        this.fast = v;
    }

    @Override
    boolean readHit(long gva, int size, boolean user) {
        return fast.readHit(gva, size, user, last);
    }

    @Override
    boolean writeHit(long gva, long value, int size, boolean user) {
        return fast.writeHit(gva, value, size, user, last);
    }

    /**
     * Under EPT a {@code mov} to CR3 does not exit: the processor loads it and flushes the vCPU's
     * TLB ({@link TdpVcpu#writeCr3}). CR0, CR4 and EFER are stored; the paging-mode change
     * flushes the TLB at the next access.
     */
    @Override
    public void writeRegister(Register r, long value) {
        owner.checkLive();
        enter();
        try {
            v.writeRegister(r, value);
        } finally {
            exit();
        }
    }

    TdpVcpu tdpVcpu() {
        return v;
    }
}
