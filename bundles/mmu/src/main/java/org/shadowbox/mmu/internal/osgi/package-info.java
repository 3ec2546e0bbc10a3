/**
 * The MMU bundle under OSGi. {@link MmuComponent} gives every VM the MMU its spec names, as a
 * {@code VmListener} ({@link ShadowVmMmu} over the shadow MMU under either policy,
 * {@link TdpVmMmu} over TDP, or a one-line refusal for {@code mmu=tdp} with
 * {@code policy=legacy}, see {@link Support}), and offers them as the
 * {@link org.shadowbox.mmu.Mmu} service, with {@link ShadowGuestCpu} and {@link TdpGuestCpu} as
 * the per-vCPU {@link org.shadowbox.mmu.GuestCpu}. {@link MmuHooksComponent}, with no reference,
 * is page track's and the emulator's way into the MMUs (the one {@code WriteProtectHook},
 * dispatching by the VM's MMU; the MMU's one {@code PageTrackNotifier},
 * {@code kvm_mmu_pte_write}; the legacy policy's direct pte-write call as an
 * {@code EmulatedWriteListener}). {@link PteWriteComponent} binds the write-flood policy, a
 * {@code PteWriteHandler} service, which that notifier calls. Tunables: {@link Config}, PID {@value MmuComponent#PID}.
 */
package org.shadowbox.mmu.internal.osgi;
