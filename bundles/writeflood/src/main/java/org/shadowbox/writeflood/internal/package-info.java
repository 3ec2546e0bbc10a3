/**
 * Write-flood detection: KVM's {@code kvm_mmu_pte_write} ({@link PteWrite}) with its rules
 * ({@link PteWriteRules}), the policies ({@link FloodPolicy}), per-VM state and statistics
 * ({@link VmFlood}, {@link FloodStats}), the component that registers it as the MMU's
 * pte-write handler and as a page-track notifier ({@link WriteFlood}), and the
 * {@code flood:} commands ({@link FloodCommands}).
 */
package org.shadowbox.writeflood.internal;
