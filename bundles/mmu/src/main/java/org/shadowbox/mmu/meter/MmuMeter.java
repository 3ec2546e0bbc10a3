package org.shadowbox.mmu.meter;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Vm;

/**
 * The work of each vCPU, split by the guest mode that caused it: what a cost model charges.
 * A guest's clock charges the time the hypervisor spends on an exit to the mode the exit
 * interrupted, so every exit's work (its own counters and the VM-wide work done meanwhile:
 * shadow pages made and zapped, hash chain steps, remote flushes) goes to the mode of the
 * access or instruction that exited. Registered by the MMU bundle beside
 * {@link org.shadowbox.mmu.Mmu}; fails in one line for a VM it does not serve.
 */
@ProviderType
public interface MmuMeter {
    /** The key of {@link #work}'s map that counts guest memory accesses (TLB hits included). */
    String ACCESSES = "accesses";

    /**
     * The work charged so far to guest mode {@code user} (true) or supervisor (false) of vCPU
     * {@code vcpu}: {@link #ACCESSES}, then counters by the names {@link org.shadowbox.mmu.Mmu#stats}
     * uses ({@code exits}, {@code guest_walk_steps}, {@code shadow_walk_steps},
     * {@code tlb_walk_steps}, {@code hash_chain_steps}, {@code mmu_lock}, {@code mmu_cache_miss},
     * {@code mmu_shadow_zapped}, {@code pf_emulate}, {@code emulated_writes}, {@code tlb_flush},
     * {@code remote_tlb_flush}, ...). Read it while the vCPU is not running.
     */
    Map<String, Long> work(Vm vm, int vcpu, boolean user);
}
