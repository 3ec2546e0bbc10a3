package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.vm.Vcpu;

/**
 * A vCPU as an MMU runs the guest on it: memory accesses and INVLPG, whatever does the
 * translation ({@link VcpuMmu} under shadow paging, the TDP vCPU under TDP). Reads, writes and
 * fetches are one {@link #access} with the access bits of a page-fault error code.
 */
public interface GuestVcpu {
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

    /**
     * A guest read that hits the TLB, done without anything a checker must wait for; false (and
     * nothing done) when it would not hit, so the caller makes it a full {@link #read}. A TLB hit
     * reads the TLB and guest memory and counts itself, nothing else: it changes neither a TLB
     * nor a table, which is why it needs no {@code vcpu->mutex}. Both MMUs override it with
     * their fast path alone, a method small enough for the JIT to inline into the caller (the
     * full {@link #access} is not).
     */
    default boolean readHit(long gva, int size, boolean user, AccessResult out) {
        return false;
    }

    /**
     * A guest store that hits the TLB ({@link TlbHitPath}: in guest mode, so that neither a
     * remote flush nor a checker holding the vCPU can see it half done); false (and nothing
     * done) when it would not hit, so the caller makes it a full {@link #write}.
     */
    default boolean writeHit(long gva, long value, int size, boolean user, AccessResult out) {
        return false;
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
