package org.shadowbox.mmu.internal.osgi;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.vm.VmSpec;

/**
 * Which VMs this build's MMU serves: the shadow MMU of KVM 2016 for 64-bit guests under the
 * page-track policy (a VM may start with paging off and enter 64-bit paging later). TDP, the
 * legacy policy are named as missing, so that a VM asking for
 * them is refused in one line instead of being run by an MMU that would get it wrong.
 */
final class Support {
    /** What a served VM's spec says: {@code mmu=shadow, policy=pagetrack}, any paging mode. */
    static final String SERVED = VmSpec.MMU + "=" + VmSpec.MMU_SHADOW + ", " + VmSpec.POLICY + "="
            + VmSpec.POLICY_PAGETRACK;

    private Support() {
    }

    /** What the VM needs that this MMU lacks ("mmu=tdp (TDP paging)", ...), or null if it is served. */
    static String missing(VmSpec spec) {
        List<String> missing = new ArrayList<>();
        if (VmSpec.MMU_TDP.equals(spec.option(VmSpec.MMU))) {
            missing.add("mmu=tdp (TDP paging)");
        }
        if (VmSpec.POLICY_LEGACY.equals(spec.option(VmSpec.POLICY))) {
            missing.add("policy=legacy (the pre-page-track path)");
        }
        return missing.isEmpty() ? null : String.join(" and ", missing);
    }

    /** The one line every MMU call about such a VM fails with. */
    static String refusal(String vmName, String missing) {
        return "VM " + vmName + " is not served by the MMU: " + missing + " is not implemented yet (served: "
                + SERVED + "); create the VM with those options";
    }
}
