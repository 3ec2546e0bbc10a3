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
     * The TLB-hit case ({@link TdpVcpu#loadHit}), else {@link #readMiss}. Kept to a few bytecodes
     * with every call statically bound (this class and {@link TdpVcpu} are final), so that the JIT
     * inlines it into whichever caller it compiles, and never holds the general path.
     */
    @Override
    public boolean read(long gva, int size, boolean user) {
        return live() && fast.loadHit(gva, size, user ? Pfec.USER : 0, last) || readMiss(gva, size, user);
    }

    /** {@link #read} for a store ({@link TdpVcpu#storeHit}: in guest mode, no mutex), else {@link #writeMiss}. */
    @Override
    public boolean write(long gva, long value, int size, boolean user) {
        return live() && fast.storeHit(gva, value, size, Pfec.WRITE | (user ? Pfec.USER : 0), last)
                || writeMiss(gva, value, size, user);
    }

    /** {@link #read} for an instruction fetch, else {@link #fetchMiss}. */
    @Override
    public boolean fetch(long gva, int size, boolean user) {
        return live() && fast.loadHit(gva, size, Pfec.FETCH | (user ? Pfec.USER : 0), last) || fetchMiss(gva, size, user);
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
