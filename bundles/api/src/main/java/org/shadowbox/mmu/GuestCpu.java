package org.shadowbox.mmu;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * A vCPU as the guest's instructions see memory: every access goes through the vCPU's
 * TLB, then the hardware walk of the shadow (or TDP) tables, then, on a miss, the
 * hypervisor's page-fault handler, exactly as on KVM. The outcome of the last access is
 * kept in this object, so the hot path allocates nothing: {@link #value()} after a
 * successful read, {@link #exception()} and {@link #errorCode()} after a fault that the
 * guest would see.
 *
 * <p>One thread at a time per vCPU; different vCPUs may run on different threads.
 */
@ProviderType
public interface GuestCpu {
    /** {@link #exception()}: the access completed. */
    int NO_EXCEPTION = 0;
    /** {@link #exception()}: #GP, a non-canonical address. */
    int GENERAL_PROTECTION = 13;
    /** {@link #exception()}: #PF; {@link #errorCode()} has P, W, U, RSVD, I/D in bits 0 to 4. */
    int PAGE_FAULT = 14;

    Vcpu vcpu();

    /** Loads {@code size} (1, 2, 4, 8) bytes at {@code gva}; true if it completed. */
    boolean read(long gva, int size, boolean user);

    /** Stores the low {@code size} bytes of {@code value} at {@code gva}; true if it completed. */
    boolean write(long gva, long value, int size, boolean user);

    /** Fetches {@code size} bytes of instructions at {@code gva}; true if it completed. */
    boolean fetch(long gva, int size, boolean user);

    /** The value of the last completed read or fetch. */
    long value();

    /** {@link #NO_EXCEPTION}, {@link #PAGE_FAULT} or {@link #GENERAL_PROTECTION} for the last access. */
    int exception();

    /** The page-fault error code of the last access (0 if none). */
    int errorCode();

    /** The guest-physical address of the last access's first byte (if it translated). */
    long gpa();

    /** Whether the hypervisor emulated the last access instead of letting it run natively. */
    boolean emulated();

    /**
     * {@code mov} to CR0, CR3, CR4 or EFER (wrmsr), as intercepted by the hypervisor: a CR3
     * write switches roots and syncs unsync pages (KVM's {@code kvm_mmu_new_cr3}); a paging
     * mode change resets the MMU context. Other registers are simply set.
     */
    void writeRegister(Register r, long value);

    /**
     * Retires {@code accesses} guest memory accesses in guest mode {@code user} (true) or
     * supervisor, all of them TLB hits, in aggregate: they are charged as that many accesses
     * (the cost model's per-access figure) and nothing else happens: no walk, no exit, no
     * change to any TLB or table. For work that a trace replay charges from recorded CPU time
     * instead of simulating it access by access (docs/replay.md). An implementation that meters
     * nothing may ignore it.
     *
     * @param accesses 0 or more
     * @since 1.1
     */
    default void retire(long accesses, boolean user) {
        if (accesses < 0) {
            throw new IllegalArgumentException("accesses " + accesses + " < 0");
        }
    }

    /** {@code invlpg gva}: drops the translation from the TLB and resyncs its shadow entry. */
    void invlpg(long gva);
}
