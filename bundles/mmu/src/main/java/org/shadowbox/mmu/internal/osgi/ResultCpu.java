package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.shadow.GuestVcpu;
import org.shadowbox.vm.Vcpu;

/**
 * What the shadow and the TDP {@link GuestCpu} adapters share: the owner whose liveness every
 * call checks, the MMU's vCPU every access goes to, and the one reused {@link AccessResult}
 * the outcome of the last access lives in, so an access allocates nothing and its only extra
 * work is one volatile read (is the MMU still there). What differs, a register write (an
 * exit under shadow paging, none under TDP), stays in the subclasses.
 *
 * @param <V> the MMU's vCPU
 */
abstract class ResultCpu<V extends GuestVcpu> implements GuestCpu {
    final VmMmu<?> owner;
    final V v;
    final AccessResult last = new AccessResult();

    ResultCpu(VmMmu<?> owner, V v) {
        this.owner = owner;
        this.v = v;
    }

    @Override
    public final Vcpu vcpu() {
        return v.vcpu();
    }

    @Override
    public final boolean read(long gva, int size, boolean user) {
        owner.checkLive();
        return v.read(gva, size, user, last).ok();
    }

    @Override
    public final boolean write(long gva, long value, int size, boolean user) {
        owner.checkLive();
        return v.write(gva, value, size, user, last).ok();
    }

    @Override
    public final boolean fetch(long gva, int size, boolean user) {
        owner.checkLive();
        return v.fetch(gva, size, user, last).ok();
    }

    /** Aggregated TLB hits: the meter counts them as accesses of that mode; no walk, no exit. */
    @Override
    public final void retire(long accesses, boolean user) {
        if (accesses < 0) {
            throw new IllegalArgumentException("accesses " + accesses + " < 0");
        }
        owner.checkLive();
        v.retire(accesses, user);
    }

    /** {@code invlpg}: an exit under shadow paging ({@code kvm_mmu_invlpg}), none under EPT; the vCPU says which. */
    @Override
    public final void invlpg(long gva) {
        owner.checkLive();
        v.invlpg(gva);
    }

    @Override
    public final long value() {
        return last.value;
    }

    /** {@link GuestCpu}'s exception numbers are the vector numbers the walker uses (0, 13, 14). */
    @Override
    public final int exception() {
        return last.exception;
    }

    @Override
    public final int errorCode() {
        return last.errorCode;
    }

    @Override
    public final long gpa() {
        return last.gpa;
    }

    @Override
    public final boolean emulated() {
        return last.emulated;
    }
}
