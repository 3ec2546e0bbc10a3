package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.shadow.VcpuMmu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * One vCPU of a shadow-paged VM as {@link GuestCpu}: an adapter over {@link VcpuMmu}, whose
 * accesses go TLB, hardware walk of the sptes, then the fault handler ({@link ResultCpu} does
 * the accesses).
 */
final class ShadowGuestCpu extends ResultCpu<VcpuMmu> {
    /** {@link #v} as its final class, so that the TLB-hit case binds its calls statically. */
    private final VcpuMmu fast;

    ShadowGuestCpu(VmMmu<?> owner, VcpuMmu v) {
        super(owner, v, false);
        this.fast = v;
    }

    /**
     * The TLB-hit case ({@link VcpuMmu#loadHit}), else {@link #miss}. A few bytecodes, every call
     * bound statically (this class and {@link VcpuMmu} are final), nothing of the general path: the
     * JIT inlines it into whichever caller it compiles.
     */
    @Override
    public boolean read(long gva, int size, boolean user) {
        int acc = user ? Pfec.USER : 0;
        return fast.loadHit(gva, size, acc, last) || miss(gva, 0, size, acc);
    }

    /** {@link #read} for a store ({@link VcpuMmu#storeHit}: in guest mode), else {@link #miss}. */
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
     * {@code kvm_set_cr3}, an exit in every mode (shadow paging intercepts CR3 loads):
     * {@link VcpuMmu#writeCr3} loads (or, in 64-bit paging, finds in the root cache) the new
     * root, loads a PAE guest's PDPTEs ({@code load_pdptrs}) and flushes the TLB, even when the
     * value is unchanged; with paging off the identity map's direct roots are let go and got
     * again ({@code kvm_mmu_new_cr3}, then {@code mmu_alloc_direct_roots}), CR3 taking effect
     * when paging is enabled. CR0, CR4 and EFER are stored; the MMU sees the change at the
     * vCPU's next access and resets its context ({@code kvm_mmu_reset_context}).
     */
    @Override
    public void writeRegister(Register r, long value) {
        owner.checkLive();
        Vcpu cpu = v.vcpu();
        if (r == Register.CR3) {
            v.writeCr3(value);
        } else {
            cpu.set(r, value);
        }
    }

    /** The underlying vCPU MMU, for the component's diagnostics (walk). */
    VcpuMmu vcpuMmu() {
        return v;
    }
}
