package org.shadowbox.writeflood.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/** Write flooding's tunables: Configuration Admin PID {@value WriteFlood#PID}. Defaults are KVM's. */
@ObjectClassDefinition(name = "Shadowbox write flooding",
        description = "kvm_mmu_pte_write: how emulated writes to shadowed guest page tables are handled.")
public @interface Config {

    @AttributeDefinition(name = "Policy", description = "kvm: KVM 2016's detection; xen: Xen's early unshadow, then"
            + " KVM's rules; zap: zap every shadow page of the written gfn.",
            options = {@Option(value = "kvm"), @Option(value = "xen"), @Option(value = "zap")})
    String policy() default "kvm";

    @AttributeDefinition(name = "Flood threshold", min = "1", max = "65535",
            description = "Writes to a shadowed page table (above level 1), since it was last used, that zap it.")
    int threshold() default PteWriteRules.DEFAULT_THRESHOLD;

    @AttributeDefinition(name = "Per-VM policies", required = false,
            description = "NAME=POLICY or NAME=POLICY:THRESHOLD, comma separated (e.g. demo=xen, test=kvm:5).")
    String[] vm_policy() default {};
}
