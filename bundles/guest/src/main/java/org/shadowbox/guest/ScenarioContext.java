package org.shadowbox.guest;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Vm;

/** What a running {@link Scenario} is given: the VM, its vCPUs, the booted guest, scale and seed. */
@ProviderType
public interface ScenarioContext {
    Vm vm();

    /** vCPUs the guest runs on (all of the VM's). */
    int vcpus();

    /** vCPU {@code i} as the guest's instructions see memory. */
    GuestCpu cpu(int i);

    /** The work size, at least 1. */
    long scale();

    /** The seed every random decision derives from. */
    long seed();

    /** The guest kernel, booted (paging on, direct map built) on every vCPU. */
    GuestKernel kernel();

    /** Progress in units of the scenario's choosing; cheap enough to call often. */
    void progress(long done, long total);
}
