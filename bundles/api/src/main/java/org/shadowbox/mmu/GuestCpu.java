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

    /**
     * {@code rep stos}: stores the low {@code size} bytes of {@code value} at {@code count}
     * consecutive elements from {@code gva} upwards, each exactly as {@link #write} would, in
     * order. A string instruction is interrupted between elements: where one faults, the
     * elements before it are stored and it and those after it are not. An implementation may
     * keep the vCPU in guest mode across the elements that hit its TLB (as a processor runs a
     * string instruction without exiting), which {@link #write} cannot do across calls.
     *
     * @param size  1, 2, 4 or 8
     * @param count 0 or more
     * @return the number of elements stored: {@code count}, or the index of the element that
     *         faulted ({@link #exception()} and {@link #errorCode()} say how)
     * @throws IllegalArgumentException on a size or count outside those accepted
     * @since 1.2
     */
    default int writeString(long gva, long value, int size, int count, boolean user) {
        checkString(size, count);
        for (int n = 0; n < count; n++) {
            if (!write(gva + (long) n * size, value, size, user)) {
                return n;
            }
        }
        return count;
    }

    /**
     * {@code rep movs}: copies {@code count} elements of {@code size} bytes from {@code src} to
     * {@code dst}, element by element, each a {@link #read} of the source then a {@link #write}
     * of the destination, in order. Interrupted as {@link #writeString} is; where the load of an
     * element faults, nothing of it is stored.
     *
     * @param size  1, 2, 4 or 8
     * @param count 0 or more
     * @return the number of elements copied: {@code count}, or the index of the element whose
     *         load or store faulted ({@link #exception()} and {@link #errorCode()} say how)
     * @throws IllegalArgumentException on a size or count outside those accepted
     * @since 1.2
     */
    default int copyString(long dst, long src, int size, int count, boolean user) {
        checkString(size, count);
        for (int n = 0; n < count; n++) {
            long off = (long) n * size;
            if (!read(src + off, size, user) || !write(dst + off, value(), size, user)) {
                return n;
            }
        }
        return count;
    }

    /**
     * The arguments of {@link #writeString} and {@link #copyString}: fails in one line on a
     * size other than 1, 2, 4 or 8 or a negative count.
     *
     * @since 1.2
     */
    static void checkString(int size, int count) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new IllegalArgumentException("string element size " + size + ": accepted are 1, 2, 4 and 8 bytes");
        }
        if (count < 0) {
            throw new IllegalArgumentException("string element count " + count + " < 0: accepted are 0 or more");
        }
    }

    /** {@code invlpg gva}: drops the translation from the TLB and resyncs its shadow entry. */
    void invlpg(long gva);
}
