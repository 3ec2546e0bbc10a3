package org.shadowbox.mmu.internal.shadow;

/**
 * A vCPU's pending requests, KVM's {@code vcpu->requests}: any thread posts one
 * ({@code kvm_make_request}); the vCPU's own thread takes them all before it enters the guest
 * ({@code kvm_check_request} for each). Lock-free; reading whether any is pending is one
 * volatile read.
 *
 * <p>The word is written by other vCPUs' threads and read by its own on every access, so it is
 * laid apart from everything else: 64 bytes of padding fields before it (a superclass, whose
 * fields the JVM lays out first) and after it (this class's own), as {@code ____cacheline_aligned}
 * does for KVM's hot per-vCPU words.
 */
public final class VcpuRequests extends VcpuRequestBits {
    /** {@code KVM_REQ_TLB_FLUSH}: flush the vCPU's TLB. */
    public static final int TLB_FLUSH = 1;
    /** {@code KVM_REQ_MMU_SYNC}: sync the shadow roots (shadow paging only). */
    public static final int MMU_SYNC = 2;
    /**
     * Not a KVM request bit but KVM's {@code vcpu->mode} after a kick: an IPI of a remote flush
     * found the vCPU in guest mode and made it exit ({@code IN_GUEST_MODE} to
     * {@code EXITING_GUEST_MODE}). Posted only with {@link #TLB_FLUSH}; the vCPU counts the exit
     * when it takes it, and a second remote flush before then sends no second IPI.
     */
    public static final int KICKED = 4;
    /**
     * Not a request either: set while a checker holds the vCPU between two accesses ({@code
     * kvm_lock_all_vcpus}, TDP): the vCPU's fast path sees a word that is not clear and falls
     * back to the path that waits for the vCPU's mutex. The checker sets and clears it
     * ({@link #hold}, {@link #release}); {@link #take} leaves it.
     */
    public static final int HELD = 8;

    /** Padding after the word. */
    long q0, q1, q2, q3, q4, q5, q6, q7;

    /** {@code kvm_make_request}: posts {@code request} ({@link #TLB_FLUSH}, {@link #MMU_SYNC}). Any thread. */
    public void make(int request) {
        VcpuRequestBits.BITS.getAndBitwiseOr(this, request);
    }

    /**
     * One vCPU's part of {@code kvm_make_all_cpus_request(KVM_REQ_TLB_FLUSH)} (KVM 4.5): the
     * request is posted; if the vCPU is in guest mode ({@code inGuestMode}) and was not kicked
     * already, it is kicked: an IPI goes to it ({@code kvm_vcpu_exiting_guest_mode} is a cmpxchg,
     * so only the first of several requesters sends one). Any thread.
     *
     * @return true if this call sent an IPI to the vCPU
     */
    public boolean makeRemoteFlush(boolean inGuestMode) {
        if (!inGuestMode) {
            make(TLB_FLUSH);
            return false;
        }
        int old = (int) VcpuRequestBits.BITS.getAndBitwiseOr(this, TLB_FLUSH | KICKED);
        return (old & KICKED) == 0;
    }

    /** True while {@code request} is posted and not yet taken. */
    public boolean pending(int request) {
        return (bits & request) != 0;
    }

    /** True when nothing is posted. */
    public boolean none() {
        return bits == 0;
    }

    /** Takes every posted request at once (the vCPU's thread): their bits, 0 if none ({@link #HELD} stays). */
    public int take() {
        return bits == 0 ? 0 : (int) VcpuRequestBits.BITS.getAndBitwiseAnd(this, HELD) & ~HELD;
    }

    /** True when a request is posted ({@link #HELD} aside). */
    public boolean anyPosted() {
        return (bits & ~HELD) != 0;
    }

    /** Sets {@link #HELD} (a read-modify-write: a full fence before the caller's next load). The checker's thread. */
    public void hold() {
        VcpuRequestBits.BITS.getAndBitwiseOr(this, HELD);
    }

    /** Clears {@link #HELD}. The checker's thread. */
    public void release() {
        VcpuRequestBits.BITS.getAndBitwiseAnd(this, ~HELD);
    }
}
