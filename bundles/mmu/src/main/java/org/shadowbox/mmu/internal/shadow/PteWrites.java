package org.shadowbox.mmu.internal.shadow;

import java.lang.System.Logger.Level;

import org.shadowbox.mmu.spi.PteWriteHandler;

/**
 * Where emulated writes to guest page tables enter one shadow MMU ({@code kvm_mmu_pte_write}'s
 * call sites): the notifier route, deduplicated so that each write is processed exactly once
 * whichever notifiers deliver it, and the direct route of the legacy policy. Each write goes,
 * under the MMU lock, to the bound {@link PteWriteHandler} or, with none, to
 * {@link ShadowMmu#trackWriteFallback}. The design and its reasons are in the description of
 * package {@code org.shadowbox.mmu.spi}.
 */
final class PteWrites {
    /** The MMU's own page-track notifier. */
    static final int FROM_MMU_NOTIFIER = 1;
    /** The handler's page-track notifier, through {@link org.shadowbox.mmu.spi.PteWriteRoute}. */
    static final int FROM_HANDLER_NOTIFIER = 2;

    private static final System.Logger LOG = System.getLogger("org.shadowbox.mmu");

    private final ShadowMmu mmu;
    private final PteWriteView[] views;
    /** The handler, or null: the fallback. Written by {@link MmuHooks}, read under the MMU lock. */
    volatile HandlerEntry handler;
    // Per vCPU, the write being notified and the notifiers already called for it (MMU lock).
    private final long[] curGpa;
    private final long[] curValue;
    private final int[] curBytes;
    private final int[] curSeen;

    PteWrites(ShadowMmu mmu) {
        this.mmu = mmu;
        int n = mmu.vcpuCount();
        views = new PteWriteView[n];
        for (int i = 0; i < n; i++) {
            views[i] = new PteWriteView(mmu, mmu.vcpu(i));
        }
        curGpa = new long[n];
        curValue = new long[n];
        curBytes = new int[n];
        curSeen = new int[n];
    }

    /**
     * A notifier delivered an emulated write. The first delivery of a write processes it; the
     * other notifier's delivery of the same write does nothing. A write is "the same" when it
     * has the same gpa, value and size and this notifier has not been called for it yet. Under
     * the legacy policy no notifier delivery is processed: {@link #direct} is the only route.
     */
    void notified(int from, int vcpuId, long gpa, long value, int bytes) {
        if (!mmu.policy.pteWriteByNotifier()) {
            return; // legacy: the emulator's direct call (EmulatorPteWrite) processes the write
        }
        mmu.vm.mmuLock().lock();
        try {
            if (curGpa[vcpuId] == gpa && curValue[vcpuId] == value && curBytes[vcpuId] == bytes
                    && (curSeen[vcpuId] & from) == 0) {
                curSeen[vcpuId] |= from;
                mmu.stats.pteWriteDuplicates++;
                return;
            }
            curGpa[vcpuId] = gpa;
            curValue[vcpuId] = value;
            curBytes[vcpuId] = bytes;
            curSeen[vcpuId] = from;
            process(vcpuId, gpa, value, bytes);
        } finally {
            mmu.vm.mmuLock().unlock();
        }
    }

    /** The direct route (legacy policy): the emulator calls {@code kvm_mmu_pte_write} itself. */
    void direct(int vcpuId, long gpa, long value, int bytes) {
        mmu.vm.mmuLock().lock();
        try {
            mmu.stats.pteWriteEmulator++;
            process(vcpuId, gpa, value, bytes);
        } finally {
            mmu.vm.mmuLock().unlock();
        }
    }

    /** Caller holds the MMU lock. */
    private void process(int vcpuId, long gpa, long value, int bytes) {
        HandlerEntry h = handler;
        if (h == null || h.disabled) {
            mmu.trackWriteFallback(gpa);
            return;
        }
        mmu.stats.pteWriteHandled++;
        try {
            h.handler.pteWrite(views[vcpuId], gpa, value, bytes);
            return;
        } catch (Exception | LinkageError | AssertionError e) {
            h.failed(e, mmu.vm.name());
        }
        // The handler failed half way: the fallback zaps every page of the gfn, whatever it did.
        mmu.trackWriteFallback(gpa);
        mmu.commitZap();
        mmu.flushRemoteTlbs();
    }

    /** Waits for a running handler call: it holds the MMU lock. */
    void quiesce() {
        mmu.vm.mmuLock().lock();
        mmu.vm.mmuLock().unlock();
    }

    /** A bound handler, the bundle to blame, and its failures (the guard's record). */
    static final class HandlerEntry {
        /** Failures after which the handler is no longer called. */
        static final int MAX_FAILURES = 10;

        final PteWriteHandler handler;
        final String bundle;
        volatile long failures;
        volatile boolean disabled;
        volatile String lastError;

        HandlerEntry(PteWriteHandler handler, String bundle) {
            this.handler = handler;
            this.bundle = bundle;
        }

        synchronized void failed(Throwable e, String vm) {
            failures++;
            lastError = e.toString().replace('\n', ' ');
            LOG.log(Level.ERROR, "pte-write handler " + handler.getClass().getName() + " of bundle " + bundle
                    + " failed in VM " + vm + " (the MMU zapped the written gfn's shadow pages instead): " + lastError,
                    e);
            if (failures >= MAX_FAILURES && !disabled) {
                disabled = true;
                LOG.log(Level.ERROR, "pte-write handler of bundle " + bundle + " failed " + failures
                        + " times: no longer called; the MMU's fallback serves every VM");
            }
        }
    }
}
