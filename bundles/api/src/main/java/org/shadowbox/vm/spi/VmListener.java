package org.shadowbox.vm.spi;

import org.shadowbox.vm.VmException;

import org.shadowbox.vm.Vm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard: every OSGi service of this type hears about every VM (including VMs that
 * existed before it registered, through {@link #vmCreated}) and takes part in memslot
 * changes, as KVM's arch code does in {@code kvm_arch_prepare_memory_region} and
 * {@code kvm_arch_commit_memory_region}.
 */
@ConsumerType
public interface VmListener {

    /** A VM exists (or existed when this listener registered). */
    default void vmCreated(Vm vm) {
    }

    /** The VM is being destroyed; its slots and memory go next. */
    default void vmDestroyed(Vm vm) {
    }

    /**
     * A slot change is about to happen. Throw {@link VmException} to refuse it; nothing has
     * changed yet. Called with the VM's slots lock held.
     */
    default void prepareSlotChange(Vm vm, SlotChange change) {
    }

    /** The change is committed: {@code vm.memslots()} already shows it. */
    default void commitSlotChange(Vm vm, SlotChange change) {
    }
}
