package org.shadowbox.vm.internal;

import java.util.concurrent.atomic.AtomicLong;

import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.VmException;

/**
 * Host bytes charged against a limit: one per VM, whose parent is the sandbox's. A charge
 * checks the VM's limit, then the sandbox's, and takes both or neither; a refusal is one
 * line that names the budget and how to raise it. Lock-free (a CAS per level), so that
 * the first write to a page costs two atomic operations and no lock.
 */
final class Budget {
    static final String CONFIG = "workspace/config/" + HypervisorImpl.BUDGET_PID + ".cfg";

    private final String vmName;
    private final Budget parent;
    private final AtomicLong used = new AtomicLong();
    private volatile long limit;
    /** For the sandbox: where its limit came from, for the refusal's line. */
    private volatile String origin = "";

    private Budget(String vmName, Budget parent, long limit) {
        this.vmName = vmName;
        this.parent = parent;
        this.limit = limit;
    }

    static Budget sandbox(long limit, String origin) {
        Budget b = new Budget(null, null, limit);
        b.origin = origin;
        return b;
    }

    Budget forVm(String name, long vmLimit) {
        return new Budget(name, this, vmLimit);
    }

    long limit() {
        return limit;
    }

    long used() {
        return used.get();
    }

    void setLimit(long bytes, String why) {
        limit = bytes;
        origin = why;
    }

    /** Sets a VM's limit; refused below what it holds. */
    void setVmLimit(long bytes) {
        long now = used.get();
        if (bytes < now) {
            throw new VmException("memory budget " + Sizes.human(bytes) + " for VM " + vmName + " is below the "
                    + Sizes.human(now) + " it holds now: accepted at least " + now + " bytes"
                    + " (host memory is not taken back)");
        }
        limit = bytes;
    }

    /** Takes {@code bytes} from this budget and its parent, or throws and takes nothing. */
    void charge(long bytes, String what) {
        take(bytes, what);
        if (parent != null) {
            try {
                parent.take(bytes, what);
            } catch (VmException e) {
                used.addAndGet(-bytes);
                throw e;
            }
        }
    }

    /**
     * Counts {@code bytes} without a check: for metadata the MMU allocates in the middle of an
     * operation that must not fail half done (a page-track chunk under {@code account_shadowed}).
     */
    void chargeUnchecked(long bytes) {
        used.addAndGet(bytes);
        if (parent != null) {
            parent.used.addAndGet(bytes);
        }
    }

    void release(long bytes) {
        if (bytes == 0) {
            return;
        }
        used.addAndGet(-bytes);
        if (parent != null) {
            parent.used.addAndGet(-bytes);
        }
    }

    private void take(long bytes, String what) {
        while (true) {
            long now = used.get();
            long lim = limit;
            if (now + bytes > lim) {
                throw refusal(now, lim, what);
            }
            if (used.compareAndSet(now, now + bytes)) {
                return;
            }
        }
    }

    private VmException refusal(long now, long lim, String what) {
        if (parent == null) {
            return new VmException("sandbox memory budget exhausted: all VMs hold " + Sizes.human(now) + " of "
                    + Sizes.human(lim) + " (" + origin + "), so " + what + " was refused and nothing was written;"
                    + " raise 'sandbox' in " + CONFIG + " (and -Xmx in JAVA_OPTS), or destroy a VM");
        }
        return new VmException("VM " + vmName + " memory budget exhausted: it holds " + Sizes.human(now) + " of "
                + Sizes.human(lim) + ", so " + what + " was refused and nothing was written; raise it with"
                + " vm:budget " + vmName + " SIZE, or 'vm' in " + CONFIG + " for new VMs");
    }

    MemoryBudget snapshot() {
        if (parent == null) {
            return new MemoryBudget(limit, used.get(), limit, used.get());
        }
        return new MemoryBudget(limit, used.get(), parent.limit, parent.used.get());
    }

    /** Human sizes for the one-line messages: 4 KiB, 1.5 MiB, 128 MiB. */
    static final class Sizes {
        private Sizes() {
        }

        static String human(long bytes) {
            return MemoryBudget.human(bytes);
        }
    }
}
