package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.vm.VmSpec;

/**
 * Which MMU a VM's spec asks for, and the one combination that does not exist. Served:
 * {@code mmu=shadow} under {@code policy=pagetrack} or {@code policy=legacy}, and
 * {@code mmu=tdp} under {@code policy=pagetrack}, in every paging mode (a VM may start with
 * paging off and enter paging later).
 *
 * <p>Refused: {@code mmu=tdp} with {@code policy=legacy}. The policy chooses how the shadow MMU
 * keeps the guest page tables it shadows write-protected (page track, or KVM's walk of the
 * shadow pages before the 2016 series); under TDP no guest table is shadowed, so there is
 * nothing for it to choose, and the pre-series TDP fault path, which never asked page track,
 * is not modelled. A VM asking for it is created, one line is logged, and every MMU call on it
 * fails with that line, rather than being run by an MMU that silently ignores an option.
 */
final class Support {
    private Support() {
    }

    /** Whether the spec asks for TDP ({@code mmu=tdp}). */
    static boolean tdp(VmSpec spec) {
        return VmSpec.MMU_TDP.equals(spec.option(VmSpec.MMU));
    }

    /** The one line every MMU call about a VM of this spec fails with, or null if it is served. */
    static String refusal(String vmName, VmSpec spec) {
        if (tdp(spec) && VmSpec.POLICY_LEGACY.equals(spec.option(VmSpec.POLICY))) {
            return "VM " + vmName + " is not served by the MMU: policy=legacy applies to mmu=shadow only (under TDP"
                    + " no guest page table is shadowed, so there is nothing for the policy to write-protect);"
                    + " create the VM with --mmu tdp alone, or --mmu shadow --policy legacy";
        }
        return null;
    }
}
