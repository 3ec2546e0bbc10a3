/**
 * The MMU bundle under OSGi: one Declarative Services component ({@link MmuComponent}) that
 * gives every VM its shadow MMU and offers it as the {@link org.shadowbox.mmu.Mmu} service,
 * with page track's hooks ({@code WriteProtectHook}, the fallback {@code PageTrackNotifier})
 * and a {@code VmListener}; {@link ShadowGuestCpu} is the per-vCPU
 * {@link org.shadowbox.mmu.GuestCpu}. Tunables: {@link Config}, PID {@value MmuComponent#PID}.
 */
package org.shadowbox.mmu.internal.osgi;
