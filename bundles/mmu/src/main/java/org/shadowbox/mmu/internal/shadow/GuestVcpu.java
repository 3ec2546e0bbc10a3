package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.vm.Vcpu;

/**
 * A vCPU as an MMU runs the guest on it: memory accesses and INVLPG, whatever does the
 * translation ({@link VcpuMmu} under shadow paging, the TDP vCPU under TDP). Reads, writes and
 * fetches are one {@link #access} with the access bits of a page-fault error code.
 */
public interface GuestVcpu extends TlbHitPath.Hit {
    /** The platform vCPU. */
    Vcpu vcpu();

    /**
     * One guest access of {@code size} (1, 2, 4, 8) bytes at {@code gva}; {@code value} is
     * written when {@code acc} has {@link Pfec#WRITE}.
     *
     * @param acc {@link Pfec#WRITE}, {@link Pfec#USER}, {@link Pfec#FETCH}
     */
    AccessResult access(long gva, long value, int size, int acc, AccessResult out);

    /** {@code n} TLB-hit accesses retired in aggregate: metered as accesses, nothing simulated ({@link org.shadowbox.mmu.GuestCpu#retire}). */
    void retire(long n, boolean user);

    /** The guest executes INVLPG. */
    void invlpg(long gva);

    /** {@code kvm_make_request(KVM_REQ_TLB_FLUSH)}: flush before the next access. Any thread. */
    void requestTlbFlush();

    /** {@code kvm_vm_dead}'s request to this vCPU ({@link VcpuRequests#VM_DEAD}): no TLB hit from now on. Any thread. */
    void requestVmDead();

    /**
     * {@link #access} when its TLB-hit case was just tried and failed, with nothing changed (the
     * {@code GuestCpu} adapter tries it first, alone, through the final class): the general
     * path, without trying the hit again.
     */
    AccessResult miss(long gva, long value, int size, int acc, AccessResult out);

    /** {@code vcpu->requests} and {@code vcpu->mode}: the word a remote flush posts to and waits on. */
    VcpuRequests requests();

    /** A string store's run of TLB-hit elements in one guest-mode entry ({@link TlbHitPath#storeHits}). */
    default int storeHits(long gva, long value, int size, int count, int acc, AccessResult out) {
        return TlbHitPath.storeHits(this, requests(), gva, value, size, count, acc, out);
    }

    /** A string copy's run of TLB-hit accesses in one guest-mode entry ({@link TlbHitPath#copyHits}). */
    default int copyHits(long dst, long src, int size, int from, int count, int acc, AccessResult out) {
        return TlbHitPath.copyHits(this, requests(), dst, src, size, from, count, acc, out);
    }

    /**
     * The checker's half of {@code kvm_lock_all_vcpus} for a vCPU whose store hits go without
     * its mutex (TDP), called with the mutex held: from return until {@link #releaseStoreHits}
     * no store hit is under way and none starts (they fall back to the path that takes the
     * mutex). Nothing to do for an MMU whose checker takes no mutex.
     */
    default void holdStoreHits() {
    }

    /** Ends {@link #holdStoreHits}; called before the mutex is released. */
    default void releaseStoreHits() {
    }

    /** A guest read of {@code size} (1, 2, 4, 8) bytes at {@code gva}. */
    default AccessResult read(long gva, int size, boolean user, AccessResult out) {
        return access(gva, 0, size, user ? Pfec.USER : 0, out);
    }

    /** A guest write of the low {@code size} bytes of {@code value} at {@code gva}. */
    default AccessResult write(long gva, long value, int size, boolean user, AccessResult out) {
        return access(gva, value, size, Pfec.WRITE | (user ? Pfec.USER : 0), out);
    }

    /** An instruction fetch of {@code size} bytes at {@code gva}. */
    default AccessResult fetch(long gva, int size, boolean user, AccessResult out) {
        return access(gva, 0, size, Pfec.FETCH | (user ? Pfec.USER : 0), out);
    }
}
