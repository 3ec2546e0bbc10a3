package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.tdp.TdpVcpu;
import org.shadowbox.vm.Register;

/**
 * One vCPU of a TDP VM as {@link GuestCpu}: an adapter over {@link TdpVcpu}, whose accesses go
 * TLB, the guest's own walk and the TDP walk "in hardware", then the TDP fault handler on a
 * violation ({@link ResultCpu} does the accesses).
 */
final class TdpGuestCpu extends ResultCpu<TdpVcpu> {
    /** {@link #v} as its final class, so that the TLB-hit case binds its calls statically. */
    private final TdpVcpu fast;

    TdpGuestCpu(VmMmu<?> owner, TdpVcpu v) {
        super(owner, v, true); // the TDP checker's (f) needs each vCPU between accesses
        this.fast = v;
    }

    /**
     * The TLB-hit case ({@link TdpVcpu#loadHit}), else {@link #miss}. A few bytecodes, every call
     * bound statically (this class and {@link TdpVcpu} are final), nothing of the general path: the
     * JIT inlines it into whichever caller it compiles.
     */
    @Override
    public boolean read(long gva, int size, boolean user) {
        int acc = user ? Pfec.USER : 0;
        return fast.loadHit(gva, size, acc, last) || miss(gva, 0, size, acc);
    }

    /** {@link #read} for a store ({@link TdpVcpu#storeHit}: in guest mode, no mutex), else {@link #miss}. */
    @Override
    public boolean write(long gva, long value, int size, boolean user) {
        int acc = Pfec.WRITE | (user ? Pfec.USER : 0);
        return fast.storeHit(gva, value, size, acc, last) || miss(gva, value, size, acc);
    }

    /** {@link #read} for an instruction fetch, else {@link #miss}. */
    @Override
    public boolean fetch(long gva, int size, boolean user) {
        int acc = Pfec.FETCH | (user ? Pfec.USER : 0);
        return fast.loadHit(gva, size, acc, last) || miss(gva, 0, size, acc);
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
