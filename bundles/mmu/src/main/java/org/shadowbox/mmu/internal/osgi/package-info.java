/**
 * The MMU bundle under OSGi: a Declarative Services component ({@link MmuComponent}) that
 * gives every VM its shadow MMU as a {@code VmListener} and offers it as the
 * {@link org.shadowbox.mmu.Mmu} service, and one ({@link MmuHooksComponent}) that is page
 * track's way into the MMUs ({@code WriteProtectHook}, the fallback {@code PageTrackNotifier});
 * {@link PteWriteComponent} binds a {@code PteWriteHandler} (write-flood detection) and offers the
 * {@code PteWriteRoute} its notifier uses; {@link ShadowGuestCpu} is the per-vCPU {@link org.shadowbox.mmu.GuestCpu}. Tunables:
 * {@link Config}, PID {@value MmuComponent#PID}.
 */
package org.shadowbox.mmu.internal.osgi;
