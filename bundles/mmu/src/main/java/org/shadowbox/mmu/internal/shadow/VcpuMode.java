package org.shadowbox.mmu.internal.shadow;

import java.lang.invoke.VarHandle;

/**
 * KVM's {@code vcpu->mode} and the remote flush that waits on it: a vCPU's thread publishes
 * when it acts on translations without the MMU lock, and {@code kvm_flush_remote_tlbs} does not
 * return while one may still act on a translation read before the flush was requested.
 * <ul>
 * <li>{@link #READING} ({@code READING_SHADOW_PAGE_TABLES}): between {@link #beginLockless} and
 *     {@link #endLockless}, the processor's walk of the sptes on a TLB miss and the fault
 *     path's flood-clearing walk ({@code walk_shadow_page_lockless_begin}/{@code _end}).
 * <li>{@link #IN_GUEST} ({@code IN_GUEST_MODE}): between {@link #enterGuestMode} and {@link
 *     #exitGuestMode}, a guest store through a translation of the TLB or of a walk: the store
 *     itself is what must not land after a flush that removed its translation.
 * </ul>
 * {@link #waitForVcpus}, called by the remote flush after it posted its requests, waits until no
 * vCPU is in either state. Shadow pages zapped before the flush are freed after it ({@link
 * ShadowMmu#commitZap}), so that wait is also the lockless walks' grace period.
 *
 * <p>Why a walker sees either the old, still valid page, or the new state, and why no store
 * lands after the flush that removed its translation (KVM's argument, the IPI replaced by a wait
 * on {@code mode}; KVM's walker runs with interrupts off, so the IPI's wait covers it too):
 * <ol>
 * <li>The vCPU stores its mode, then a full fence ({@code smp_store_mb}), then loads sptes
 *     (acquire) or its request word. The zapper clears and unlinks sptes with release stores
 *     under the MMU lock, posts its requests with a read-modify-write (a full fence), then loads
 *     every vCPU's mode. By the fences, one of the two comes first: either the zapper's load sees
 *     the vCPU's mode (and it waits for it to end), or the vCPU's loads come after the zapper's
 *     stores: a walker sees the cleared sptes (it faults and takes the lock), a store sees the
 *     flush request and backs out to serve it before it uses any translation ({@code
 *     vcpu_enter_guest}'s request check after {@code IN_GUEST_MODE}).
 * <li>While the zapper waits, the pages a walker may hold are invalid but not freed, and their
 *     ids not reused ({@link MmuPages#free} runs after the flush), so a child id the walker read
 *     still names the page it named, whose sptes are their old values (a translation valid
 *     before the zap, which the flush then removes from every TLB) or 0.
 * <li>The end of a state is a release store after the walk's last load and TLB fill, or after
 *     the guest store; the zapper's acquire load that sees it orders everything after the
 *     flush (the free, the zapper's next read of guest memory) after all of them.
 * <li>A page reached for the first time is fully built: its table entry (and {@link MmuPages}'s
 *     slot for its id) is published with a release store after the page was filled in, and the
 *     walker loads both with acquire ({@link ShadowPage#spteLockless}, {@link MmuPages#getLockless}).
 * </ol>
 * A vCPU in either state never waits for the MMU lock, a vCPU or a notifier (the only monitor it
 * may take is guest memory's, for as long as it makes a host page resident), so the wait is
 * short and cannot deadlock with the MMU lock the zapper holds. TLB-hit loads publish nothing: a load that
 * completes just after the flush is one that happened before it (only stores are fenced, one
 * full fence per store that hits; reads, most accesses, pay nothing).
 */
public final class VcpuMode {
    /** {@code OUTSIDE_GUEST_MODE}: not acting on any translation. */
    public static final int OUTSIDE = 0;
    /** {@code READING_SHADOW_PAGE_TABLES}. */
    public static final int READING = 1;
    /** {@code IN_GUEST_MODE}, while a guest store is under way. */
    public static final int IN_GUEST = 2;
    /** Spins before a waiting zapper starts yielding its core (the vCPU may be descheduled). */
    private static final int SPINS = 1 << 10;

    private VcpuMode() {
    }

    /** {@code walk_shadow_page_lockless_begin}: the vCPU's own thread, before its first spte load. */
    public static void beginLockless(VcpuRequests r) {
        VcpuRequestBits.MODE.setOpaque(r, READING);
        VarHandle.fullFence(); // smp_store_mb: the store above before any spte load below
    }

    /** {@code walk_shadow_page_lockless_end}: after the walk's last spte load and TLB fill. */
    public static void endLockless(VcpuRequests r) {
        VcpuRequestBits.MODE.setRelease(r, OUTSIDE);
    }

    /**
     * {@code vcpu->mode = IN_GUEST_MODE; smp_mb(); if (kvm_request_pending(vcpu)) ...}: the
     * vCPU's own thread, before a guest store through a translation it holds.
     *
     * @return true if the store may go ahead; false if a request is pending (the vCPU is then
     *         outside guest mode again and must serve it and translate anew)
     */
    public static boolean enterGuestMode(VcpuRequests r) {
        VcpuRequestBits.MODE.setOpaque(r, IN_GUEST);
        VarHandle.fullFence(); // the store above before the request load below
        if (r.noneForStore()) {
            return true;
        }
        VcpuRequestBits.MODE.setRelease(r, OUTSIDE);
        return false;
    }

    /**
     * {@link #enterGuestMode} without its request test, for a caller that tests the whole word
     * itself right after (a store that hits the TLB: {@code VcpuRequests.none}, stricter than
     * {@link VcpuRequests#noneForStore}), and then calls {@link #exitGuestMode} whatever it found.
     */
    public static void publishGuestMode(VcpuRequests r) {
        VcpuRequestBits.MODE.setOpaque(r, IN_GUEST);
        VarHandle.fullFence(); // the store above before the caller's request load
    }

    /** The guest store is done: {@code OUTSIDE_GUEST_MODE} (release: the store before it). */
    public static void exitGuestMode(VcpuRequests r) {
        VcpuRequestBits.MODE.setRelease(r, OUTSIDE);
    }

    /**
     * The waiting half of {@code kvm_flush_remote_tlbs}, after the requests were posted (each a
     * full fence): returns once no vCPU of {@code vcpus} is walking or storing without the lock
     * (point 1 of the class comment). Called with the MMU lock held or from a host thread; a
     * vCPU waiting on itself finds itself {@link #OUTSIDE}.
     */
    public static void waitForVcpus(VcpuRequests[] vcpus) {
        VarHandle.fullFence(); // the requests (and the clears before them) before the mode loads
        for (VcpuRequests r : vcpus) {
            waitOutside(r);
        }
    }

    /**
     * {@link #waitForVcpus} for one vCPU: the caller posted something to its word (a request,
     * or {@link VcpuRequests#HELD}) with a read-modify-write; returns once the vCPU is outside
     * both states, so every guest store it began before seeing the word has landed (and is
     * visible to the caller: the acquire load of {@link #OUTSIDE} pairs with {@link #exitGuestMode}).
     */
    public static void waitForVcpu(VcpuRequests r) {
        VarHandle.fullFence();
        waitOutside(r);
    }

    private static void waitOutside(VcpuRequests r) {
        for (int spins = 0; (int) VcpuRequestBits.MODE.getAcquire(r) != OUTSIDE; spins++) {
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
