/**
 * The MMU: how guest memory accesses are virtualized (KVM's {@code arch/x86/kvm/mmu/}).
 * {@link org.shadowbox.mmu.Mmu} is the service; {@link org.shadowbox.mmu.GuestCpu} is a
 * vCPU as the guest's instructions see memory through it (loads, stores, fetches,
 * {@code mov cr}, {@code invlpg}); the records describe the MMU's state for tools.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.shadowbox.mmu;
