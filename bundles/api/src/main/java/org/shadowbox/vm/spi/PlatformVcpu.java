package org.shadowbox.vm.spi;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vcpu;

/**
 * A vCPU as the platform sees it: the tracker API plus what the MMU's hot path needs to know
 * about its registers without reading them. Reach it through {@link Platform#vcpu}.
 */
@ProviderType
public interface PlatformVcpu extends Vcpu {

    /**
     * A count of the changes to the registers an MMU context is built from: CR0, CR3, CR4 and
     * EFER. Every {@link #set} or {@link #reset} that changes one of them (EFER.LMA through a
     * CR0 write too) counts one, before it returns; a write that leaves all four as they were
     * counts nothing. Where KVM's {@code kvm_set_cr0}, {@code kvm_set_cr4} and {@code set_efer}
     * call {@code kvm_mmu_reset_context} and {@code kvm_set_cr3} calls {@code kvm_mmu_new_pgd},
     * an MMU that remembers the count it built its context at knows, by one compare, that
     * nothing of that context changed since: its TLB-hit path asks this instead of the four
     * registers. Never negative; read by the vCPU's own thread (like the registers, it is
     * written by whoever drives the vCPU).
     */
    long mmuContextGeneration();

    /**
     * What to run each time {@link #mmuContextGeneration} moves, or null for nothing: the MMU
     * that serves this vCPU posts itself a request there, where KVM's {@code kvm_set_cr0} and
     * the others call {@code kvm_mmu_reset_context} (or, for CR3 since Linux 5.x, post {@code
     * KVM_REQ_LOAD_MMU_PGD}), so that its TLB-hit path tests one request word instead of also
     * comparing the generation. Run by the thread that changed the register, after the count
     * and before {@link #set} or {@link #reset} returns, with the registers' lock held: it must
     * be short and must not block. One hook per vCPU; a new one replaces the old.
     *
     * @since 1.3
     */
    void mmuContextHook(Runnable onChange);

    /**
     * {@code kvm_vcpu_gfn_to_memslot}: the memslot holding {@code gfn}, or null, found through
     * this vCPU's last-used slot ({@code vcpu->last_used_slot}) before the VM's search. The
     * cached slot is used only within the memslots generation it was found in: any slot create,
     * move or delete, by whichever thread, makes the next lookup search again. Call it from the
     * thread driving this vCPU only (the cache is the vCPU's own, as KVM's is).
     *
     * @since 1.3
     */
    Memslot gfnToMemslot(long gfn);

    /**
     * Guest memory as this vCPU reads it ({@code kvm_vcpu_read_guest}): the same values as
     * {@link org.shadowbox.vm.Vm#memory()}, reached through {@link #gfnToMemslot} and a small
     * per-vCPU cache of the host pages read last, both dropped with the memslots generation.
     * Writes are the VM's. For the MMU's walks on the vCPU's own thread only.
     *
     * @since 1.3
     */
    GuestMemory memory();
}
