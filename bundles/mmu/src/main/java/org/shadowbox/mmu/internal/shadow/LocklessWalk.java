package org.shadowbox.mmu.internal.shadow;

import java.lang.invoke.VarHandle;

/**
 * Walks of the sptes without {@code kvm->mmu_lock}: KVM's {@code walk_shadow_page_lockless_begin}
 * and {@code _end}, and the zapper's side of them in {@code kvm_mmu_commit_zap_page}. The
 * processor's walk on a TLB miss ({@link GuestAccess}) and the fault path's read-only walk
 * ({@code shadow_page_table_clear_flood}) run between {@link #begin} and {@link #end}; shadow
 * pages zapped meanwhile are freed, and their ids reused, only after every such walker is out
 * ({@link #waitForWalkers}, called by {@link ShadowMmu#commitZap} before it frees anything).
 *
 * <p>Why a walker sees either the old, still valid page, or the new state (KVM's argument, with
 * its IPI replaced by a wait on {@code mode}):
 * <ol>
 * <li>The walker stores {@code mode = READING}, then a full fence ({@code smp_store_mb}), then
 *     loads sptes with acquire. The zapper clears and unlinks sptes with release stores under
 *     the MMU lock, then a full fence, then loads every vCPU's {@code mode}. By the fences, one
 *     of the two comes first in the total order of fences: either the zapper's load sees
 *     {@code READING} (and it waits), or the walker's loads come after the zapper's stores and
 *     see the cleared sptes (the walk fails and the vCPU takes the fault path, under the lock).
 * <li>While it waits, the pages the walker may hold are invalid but not freed: their ids are not
 *     reused ({@link MmuPages#free} runs after the wait), so a child id the walker read still
 *     names the page it named, whose sptes are either their old values (a translation that was
 *     valid before the zap, which the zapper's remote flush then removes from every TLB) or 0.
 * <li>The walker's {@code mode = OUTSIDE} is a release store after its last spte load and TLB
 *     fill; the zapper's acquire load that sees it orders the free after all of them.
 * <li>A page reached for the first time is fully built: its table entry (and {@link
 *     MmuPages}'s slot for its id) is published with a release store after the page was
 *     filled in, and the walker loads both with acquire ({@link ShadowPage#spteLockless},
 *     {@link MmuPages#getLockless}).
 * </ol>
 * A walker never blocks between {@link #begin} and {@link #end}, so the zapper's wait is short
 * and cannot deadlock with the MMU lock it holds (KVM's walker runs with interrupts off for the
 * same reason).
 */
final class LocklessWalk {
    /** {@code OUTSIDE_GUEST_MODE} (for the walks' purpose: not reading sptes). */
    static final int OUTSIDE = 0;
    /** {@code READING_SHADOW_PAGE_TABLES}. */
    static final int READING = 1;
    /** Spins before a waiting zapper starts yielding its core (the walker may be descheduled). */
    private static final int SPINS = 1 << 10;

    private LocklessWalk() {
    }

    /** {@code walk_shadow_page_lockless_begin}: the vCPU's own thread, before its first spte load. */
    static void begin(VcpuMmu v) {
        VcpuRequestBits.MODE.setOpaque(v.requests, READING);
        VarHandle.fullFence(); // smp_store_mb: the store above before any spte load below
    }

    /** {@code walk_shadow_page_lockless_end}: after the walk's last spte load and TLB fill. */
    static void end(VcpuMmu v) {
        VcpuRequestBits.MODE.setRelease(v.requests, OUTSIDE);
    }

    /**
     * The zapper's grace period, MMU lock held, after the zapped pages' sptes were cleared and
     * before they are freed: waits until no vCPU is between {@link #begin} and {@link #end}.
     * Walks that begin later see the cleared sptes (point 1 of the class comment).
     */
    static void waitForWalkers(ShadowMmu mmu) {
        VarHandle.fullFence(); // the clears above before the mode loads below
        for (int i = 0, n = mmu.vcpuCount(); i < n; i++) {
            VcpuMmu v = mmu.vcpu(i);
            for (int spins = 0; (int) VcpuRequestBits.MODE.getAcquire(v.requests) == READING; spins++) {
                if (spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }
    }
}
