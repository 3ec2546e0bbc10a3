package org.shadowbox.vm.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Memory budgets: Configuration Admin PID {@value HypervisorImpl#BUDGET_PID}. Sizes as 64M, 1G, 0x1000. */
@ObjectClassDefinition(name = "Shadowbox memory budgets",
        description = "Host memory that guest pages and page-track counters may take, per VM and for all VMs.")
public @interface BudgetConfig {

    @AttributeDefinition(name = "Sandbox budget", required = false,
            description = "For all VMs together. Empty: half of the JVM's maximum heap (-Xmx), leaving the rest to"
                    + " shadow pages, tracker state and the shell.")
    String sandbox() default "";

    @AttributeDefinition(name = "Per-VM budget", required = false,
            description = "Each new VM's own budget (vm:budget changes one VM's). Empty: none, only the sandbox's.")
    String vm() default "";
}
