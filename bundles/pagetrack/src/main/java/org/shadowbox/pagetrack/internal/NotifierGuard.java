package org.shadowbox.pagetrack.internal;

import java.lang.System.Logger.Level;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * The one guard (Eclipse SafeRunner style) through which page track calls foreign code:
 * notifiers and the MMU's write-protect hook. It catches {@link Exception},
 * {@link LinkageError} and {@link AssertionError}, never rethrows, logs one line blaming
 * the bundle by symbolic name, counts calls and failures, keeps the last error, and after
 * {@link #maxFailures()} failures disables a notifier: it stays attached and listed, but
 * is no longer called. The caller goes on with the next notifier; the VM keeps running.
 *
 * <p>The success path allocates nothing: one volatile read, one atomic increment, the call.
 */
final class NotifierGuard {
    /** Default of {@code guard.maxFailures}. */
    static final int DEFAULT_MAX_FAILURES = 10;

    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");

    private volatile int maxFailures = DEFAULT_MAX_FAILURES;

    int maxFailures() {
        return maxFailures;
    }

    /** Sets the threshold; refused (logged, old value kept) below 1. */
    void setMaxFailures(int n) {
        if (n < 1) {
            LOG.log(Level.WARNING, "ignoring guard.maxFailures=" + n + ": accepted 1 or more; keeping " + maxFailures);
            return;
        }
        maxFailures = n;
    }

    /** {@code track_write} through the guard. */
    void trackWrite(NotifierEntry e, Vm vm, int vcpuId, long gpa, long value, int bytes) {
        if (e.disabled) {
            return;
        }
        e.calls.incrementAndGet();
        try {
            e.notifier.trackWrite(vm, vcpuId, gpa, value, bytes);
        } catch (Exception | LinkageError | AssertionError t) {
            failed(e, "trackWrite", vm, t);
        }
    }

    /** {@code track_remove_region} through the guard. */
    void trackRemoveRegion(NotifierEntry e, Vm vm, long gfn, long npages) {
        if (e.disabled) {
            return;
        }
        e.calls.incrementAndGet();
        try {
            e.notifier.trackRemoveRegion(vm, gfn, npages);
        } catch (Exception | LinkageError | AssertionError t) {
            failed(e, "trackRemoveRegion", vm, t);
        }
    }

    /**
     * {@code kvm_mmu_slot_gfn_write_protect} through the guard. A hook that fails is
     * assumed to have changed something, so that the caller still flushes.
     */
    boolean slotGfnWriteProtect(HookEntry h, Vm vm, Memslot slot, long gfn) {
        h.calls.incrementAndGet();
        try {
            return h.hook.slotGfnWriteProtect(vm, slot, gfn);
        } catch (Exception | LinkageError | AssertionError t) {
            failed(h, "slotGfnWriteProtect", vm, t);
            return true;
        }
    }

    /** {@code kvm_flush_remote_tlbs} through the guard. */
    void flushRemoteTlbs(HookEntry h, Vm vm) {
        h.calls.incrementAndGet();
        try {
            h.hook.flushRemoteTlbs(vm);
        } catch (Exception | LinkageError | AssertionError t) {
            failed(h, "flushRemoteTlbs", vm, t);
        }
    }

    private void failed(GuardedTarget g, String call, Vm vm, Throwable t) {
        long n = g.failures.incrementAndGet();
        String line = "bundle " + g.bundle + ": " + g.name + "." + call + " failed on VM " + vm.name() + ": "
                + oneLine(t) + " (failure " + n + ")";
        g.lastError = line;
        LOG.log(Level.ERROR, line);
        int max = maxFailures;
        if (g.mayDisable && n >= max && !g.disabled) {
            g.disabled = true;
            LOG.log(Level.ERROR, "bundle " + g.bundle + ": disabled page-track notifier " + g.name + " after " + n
                    + " failures (guard.maxFailures=" + max + ")");
        }
    }

    private static String oneLine(Throwable t) {
        String m = t.getMessage();
        String s = m == null ? t.getClass().getName() : t.getClass().getName() + ": " + m;
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
