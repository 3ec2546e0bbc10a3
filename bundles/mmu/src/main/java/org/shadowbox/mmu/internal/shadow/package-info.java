/**
 * KVM's 2016 shadow MMU for 64-bit, PAE and 32-bit guests ({@code arch/x86/kvm/mmu.c} and
 * {@code paging_tmpl.h} with page track; PAE and 32-bit guests under a PAE root, 32-bit guest
 * tables split by role.quadrant): shadow pages by (gfn, {@link Role}), sptes as
 * {@code long}s ({@link Spte}), reverse maps, the fault path ({@link PageFault}), resync
 * ({@link Sync}), per-vCPU roots and a TLB model ({@link VcpuMmu}, {@link Tlb}), and the
 * invariant checker ({@link MmuChecker}). Plain Java; the bundle's components wire it.
 */
package org.shadowbox.mmu.internal.shadow;
