package org.shadowbox.writeflood.internal;

import org.shadowbox.vm.spi.Platform;

import org.shadowbox.vm.Vm;

/**
 * The write-flood state of one VM: its policy and threshold as resolved from the current
 * {@link Settings}, its {@link FloodStats}, and per vCPU the Xen policy's memory of the last
 * write of zeros. Everything but {@link #vm} is guarded by the VM's MMU lock.
 */
final class VmFlood {
    final Vm vm;
    final FloodStats stats = new FloodStats();
    /** The settings {@link #policy} and {@link #threshold} were resolved from. */
    private Settings resolved;
    FloodPolicy policy;
    int threshold;
    /** Per vCPU: the gfn of the last emulated write of zeros, or -1; and its not-emulated fault count then. */
    final long[] lastZeroGfn;
    final long[] faultsAtLastZero;

    VmFlood(Vm vm) {
        this.vm = vm;
        lastZeroGfn = new long[vm.vcpuCount()];
        faultsAtLastZero = new long[vm.vcpuCount()];
        java.util.Arrays.fill(lastZeroGfn, -1);
    }

    /** Picks up changed settings (an identity test per write; a lookup only after a change). */
    void resolve(Settings s) {
        if (s != resolved) {
            Settings.Choice c = s.forVm(vm.name());
            if (c.policy() != policy) {
                java.util.Arrays.fill(lastZeroGfn, -1);
            }
            policy = c.policy();
            threshold = c.threshold();
            resolved = s;
        }
    }

    /** A copy of the counters, taken under the MMU lock. */
    FloodStats snapshot() {
        Platform.mmuLock(vm).lock();
        try {
            return stats.copy();
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }
}
