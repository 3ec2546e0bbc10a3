package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.Platform;

import java.lang.System.Logger.Level;

import org.shadowbox.mmu.spi.PteWriteHandler;

/**
 * Where emulated writes to guest page tables enter one shadow MMU ({@code kvm_mmu_pte_write}'s
 * two call sites, of which a VM uses exactly one): the MMU's own page-track notifier, the one
 * route under the pagetrack policy (KVM 4.6's {@code kvm_mmu_init_vm} registers
 * {@code kvm_mmu_pte_write} as the VM's notifier), and the emulator's direct call under the
 * legacy policy (4.5's {@code emulator_write_phys}). The policy is fixed for the VM's life, so
 * each write takes one route and is handled once by construction: nothing compares writes.
 * Each write goes, under the MMU lock, to the bound write-flood policy
 * ({@link PteWriteHandler}, the writeflood bundle's service) or, with none, to
 * {@link ShadowMmu#trackWriteFallbackLocked}.
 */
final class PteWrites {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.mmu");

    private final ShadowMmu mmu;
    private final PteWriteView[] views;
    /** The handler, or null: the fallback. Written by {@link MmuHooks}, read under the MMU lock. */
    volatile HandlerEntry handler;
    /**
     * Writes processed, by either route (MMU lock). With the notifier attached from the VM's
     * start, it equals the VM's emulated writes: each write handled once (tests check it).
     */
    long processed;

    PteWrites(ShadowMmu mmu) {
        this.mmu = mmu;
        int n = mmu.vcpuCount();
        views = new PteWriteView[n];
        for (int i = 0; i < n; i++) {
            views[i] = new PteWriteView(mmu, mmu.vcpu(i));
        }
    }

    /**
     * The MMU's page-track notifier delivered an emulated write ({@code kvm_mmu_pte_write} as
     * {@code track_write}). Under the legacy policy the notifier is not the route: the
     * emulator's direct call ({@link #direct}) is, so the delivery is ignored.
     */
    void notified(int vcpuId, long gpa, long value, int bytes) {
        if (!mmu.policy.pteWriteByNotifier()) {
            return; // legacy: the emulator's direct call (EmulatorPteWrite) processes the write
        }
        Platform.mmuLock(mmu.vm).lock();
        try {
            mmu.stats.inc(MmuCounter.MMU_LOCK);
            process(vcpuId, gpa, value, bytes);
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
    }

    /** The direct route (legacy policy): the emulator calls {@code kvm_mmu_pte_write} itself. */
    void direct(int vcpuId, long gpa, long value, int bytes) {
        if (mmu.policy.pteWriteByNotifier()) {
            return; // pagetrack: the MMU's notifier is the route
        }
        Platform.mmuLock(mmu.vm).lock();
        try {
            mmu.stats.inc(MmuCounter.MMU_LOCK);
            mmu.stats.inc(MmuCounter.PTE_WRITE_EMULATOR);
            process(vcpuId, gpa, value, bytes);
        } finally {
            Platform.mmuLock(mmu.vm).unlock();
        }
    }

    /** Caller holds the MMU lock. Counts the shadow pages the write zapped ({@code mmu_pte_write_zapped}). */
    private void process(int vcpuId, long gpa, long value, int bytes) {
        mmu.assertMmuLockHeld();
        processed++;
        long zapped = mmu.stats.get(MmuCounter.MMU_SHADOW_ZAPPED);
        try {
            handle(vcpuId, gpa, value, bytes);
        } finally {
            mmu.stats.add(MmuCounter.MMU_PTE_WRITE_ZAPPED, mmu.stats.get(MmuCounter.MMU_SHADOW_ZAPPED) - zapped);
        }
    }

    private void handle(int vcpuId, long gpa, long value, int bytes) {
        HandlerEntry h = handler;
        if (h == null || h.disabled) {
            mmu.trackWriteFallbackLocked(gpa);
            return;
        }
        mmu.stats.inc(MmuCounter.MMU_PTE_WRITE_HANDLED);
        try {
            h.handler.pteWrite(views[vcpuId], gpa, value, bytes);
            return;
        } catch (Exception | LinkageError | AssertionError e) {
            h.failed(e, mmu.vm.name());
        }
        // The handler failed half way: the fallback zaps every page of the gfn, whatever it did.
        mmu.trackWriteFallbackLocked(gpa);
        mmu.commitZap();
        mmu.flushRemoteTlbs();
    }

    /** Waits for a running handler call: it holds the MMU lock. */
    void quiesce() {
        Platform.mmuLock(mmu.vm).lock();
        Platform.mmuLock(mmu.vm).unlock();
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
