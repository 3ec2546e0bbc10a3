package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.vm.VmSpec;

/**
 * Which MMU a VM's spec asks for. Every combination is served: {@code mmu=shadow} or
 * {@code mmu=tdp}, each under {@code policy=pagetrack} (KVM 4.6, the page-track series) or
 * {@code policy=legacy} (KVM 4.5, before it), in every paging mode (a VM may start with paging
 * off and enter paging later). Under TDP the legacy policy is the pre-series TDP fault path,
 * which never asks page track ({@code TdpFault}); page track refuses external tracks on such a
 * VM, since nothing there would honour them.
 */
final class Support {
    private Support() {
    }

    /** Whether the spec asks for TDP ({@code mmu=tdp}). */
    static boolean tdp(VmSpec spec) {
        return VmSpec.MMU_TDP.equals(spec.option(VmSpec.MMU));
    }
}
