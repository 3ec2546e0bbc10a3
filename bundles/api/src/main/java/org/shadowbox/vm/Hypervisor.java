package org.shadowbox.vm;


import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Creates, lists and destroys VMs (KVM's {@code KVM_CREATE_VM} and the release of a
 * VM file descriptor). Registered as an OSGi service by the {@code vm} bundle.
 *
 * <p>Thread-safe. Every method fails with {@link VmException} carrying a one-line
 * message that says what was wrong and what is accepted; a failed call changes nothing.
 */
@ProviderType
public interface Hypervisor {

    /** Creates a VM from {@code spec}; refused if the name is taken or the spec is invalid. */
    Vm createVm(VmSpec spec);

    /**
     * Destroys the VM: its listeners see {@link org.shadowbox.vm.spi.VmListener#vmDestroyed(Vm)}, its memory
     * is freed. Refused if no VM has that name.
     */
    void destroyVm(String name);

    /** The VMs in creation order. */
    List<Vm> vms();

    /** The VM of that name, if any. */
    Optional<Vm> vm(String name);

    /**
     * The VM of that name, or a {@link VmException} that lists the VMs there are.
     * This is what shell commands use to resolve a user's {@code VM} argument.
     */
    Vm require(String name);

    /**
     * The sandbox-wide memory budget, shared by all VMs (Configuration Admin PID
     * {@code org.shadowbox.budget}); the record's VM fields repeat the sandbox's.
     */
    MemoryBudget memoryBudget();
}
