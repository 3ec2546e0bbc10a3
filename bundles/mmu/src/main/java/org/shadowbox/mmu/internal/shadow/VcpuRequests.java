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
    /**
     * {@code KVM_REQ_MMU_RELOAD}, posted by {@code kvm_reload_remote_mmus} when a shadow page
     * some vCPU holds as a root is zapped ({@link ShadowMmu#prepareZap}): the next entry must
     * look at the roots ({@code kvm_mmu_reload}). {@link #take} leaves it: the vCPU clears it at
     * the start of a full entry, before it looks ({@link #takeReload}), so a root zapped during
     * that entry (a sync can zap) makes the next one full again.
     */
    public static final int MMU_RELOAD = 16;
    /**
     * CR0, CR3, CR4 or EFER changed since the vCPU's last full entry: posted by the vm bundle's
     * register write through {@link org.shadowbox.vm.spi.PlatformVcpu#mmuContextHook}, where KVM's
     * {@code kvm_set_cr0} and the others call {@code kvm_mmu_reset_context} (and Linux 5.x posts
     * {@code KVM_REQ_LOAD_MMU_PGD} for CR3). Set too before the first entry. Like {@link
     * #MMU_RELOAD}, left by {@link #take} and cleared at the start of a full entry ({@link
     * #takeEntryChecks}), before the registers are read.
     */
    public static final int CONTEXT_CHANGED = 32;
    /**
     * {@code KVM_REQ_VM_DEAD} ({@code kvm_vm_dead}): the VM's MMU is gone (the MMU service let the
     * VM go, or the VM was destroyed). Posted once to every vCPU and never taken: the TLB-hit case,
     * which reads only this word, falls back to the general path, where the adapter fails the
     * access in one line, as KVM's {@code vcpu_enter_guest} returns {@code -EIO}. So the hit needs
     * no liveness check of its own.
     */
    public static final int VM_DEAD = 64;
    /** The bits {@link #take} leaves in the word. */
    private static final int KEPT = HELD | MMU_RELOAD | CONTEXT_CHANGED | VM_DEAD;
    /** What a full entry looks at itself, whatever is posted ({@link #takeEntryChecks}). */
    private static final int ENTRY_CHECKS = MMU_RELOAD | CONTEXT_CHANGED;

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

    /** Takes every posted request at once (the vCPU's thread): their bits, 0 if none ({@link #HELD} and {@link #MMU_RELOAD} stay). */
    public int take() {
        return bits == 0 ? 0 : (int) VcpuRequestBits.BITS.getAndBitwiseAnd(this, KEPT) & ~KEPT;
    }

    /**
     * True when nothing but the entry checks ({@link #MMU_RELOAD}, {@link #CONTEXT_CHANGED}) is
     * posted: what {@link VcpuMode#enterGuestMode} asks before a store through translations the
     * vCPU already holds (a change of context or a zapped root does not take them away; a flush
     * does, and the flush request is in the word).
     */
    public boolean noneForStore() {
        return (bits & ~ENTRY_CHECKS) == 0;
    }

    /** True when a request that {@link #take} takes is posted. */
    public boolean anyPosted() {
        return (bits & ~KEPT) != 0;
    }

    /**
     * Clears {@link #MMU_RELOAD} and {@link #CONTEXT_CHANGED} if posted: the vCPU's thread, at the
     * start of a full entry, before it reads its registers and looks at its roots (one posted
     * after this makes the next entry full again). A read-modify-write only when one is set.
     */
    public void takeEntryChecks() {
        if ((bits & ENTRY_CHECKS) != 0) {
            VcpuRequestBits.BITS.getAndBitwiseAnd(this, ~ENTRY_CHECKS);
        }
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
