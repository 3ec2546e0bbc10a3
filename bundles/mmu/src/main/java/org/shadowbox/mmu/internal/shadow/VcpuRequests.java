package org.shadowbox.mmu.internal.shadow;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A vCPU's pending requests, KVM's {@code vcpu->requests}: any thread posts one
 * ({@code kvm_make_request}); the vCPU's own thread takes them all before it enters the guest
 * ({@code kvm_check_request} for each). Lock-free; reading whether any is pending is one
 * volatile read.
 */
public final class VcpuRequests {
    /** {@code KVM_REQ_TLB_FLUSH}: flush the vCPU's TLB. */
    public static final int TLB_FLUSH = 1;
    /** {@code KVM_REQ_MMU_SYNC}: sync the shadow roots (shadow paging only). */
    public static final int MMU_SYNC = 2;

    private static final VarHandle BITS;

    static {
        try {
            BITS = MethodHandles.lookup().findVarHandle(VcpuRequests.class, "bits", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile int bits;

    /** {@code kvm_make_request}: posts {@code request} ({@link #TLB_FLUSH}, {@link #MMU_SYNC}). Any thread. */
    public void make(int request) {
        BITS.getAndBitwiseOr(this, request);
    }

    /** True while {@code request} is posted and not yet taken. */
    public boolean pending(int request) {
        return (bits & request) != 0;
    }

    /** True when nothing is posted. */
    public boolean none() {
        return bits == 0;
    }

    /** Takes every posted request at once (the vCPU's thread): their bits, 0 if none. */
    public int take() {
        return bits == 0 ? 0 : (int) BITS.getAndSet(this, 0);
    }
}
