package org.shadowbox.vm.spi;

import java.util.concurrent.locks.ReentrantLock;

import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * The platform's view of a VM and its memslots, beyond the tracker API: the MMU lock and the
 * per-slot counters. Platform only: packages marked with {@value #SPI_ATTRIBUTE} do not wire
 * to bundles outside the platform (docs/trust-model.md).
 */
public interface Platform {
    /** The package attribute that marks an export as platform SPI. */
    String SPI_ATTRIBUTE = "shadowbox.platform";

    /**
     * {@code kvm->mmu_lock} of {@code vm}: held by whoever changes sptes, shadow pages,
     * page-track counters or lpage counts; not reentrant (see {@code MmuSpinLock}). Reads of
     * counters (is_active) do not take it.
     */
    static ReentrantLock mmuLock(Vm vm) {
        return ((PlatformVm) vm).mmuLock();
    }

    /** The platform side of {@code vm}: its MMU lock and {@link PlatformVm#betweenEmulatedWrites}. */
    static PlatformVm vm(Vm vm) {
        return (PlatformVm) vm;
    }

    /** The platform side of {@code vcpu}: its {@link PlatformVcpu#mmuContextGeneration}. */
    static PlatformVcpu vcpu(org.shadowbox.vm.Vcpu vcpu) {
        return (PlatformVcpu) vcpu;
    }

    /** The platform side of {@code slot}: its host pages and counters. */
    static PlatformMemslot slot(Memslot slot) {
        return (PlatformMemslot) slot;
    }
}
