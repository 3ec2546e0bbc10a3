package org.shadowbox.vm.spi;

import java.util.concurrent.locks.ReentrantLock;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Vm;

/**
 * A VM as the platform sees it: the tracker API plus its MMU lock and the checker's quiet point.
 * Reach it through {@link Platform}.
 */
@ProviderType
public interface PlatformVm extends Vm {

    /**
     * {@code kvm->mmu_lock}: held by whoever changes sptes, shadow pages, page-track
     * counters or lpage counts; not reentrant. Reads of counters (is_active) do not take it.
     */
    ReentrantLock mmuLock();

    /**
     * Runs {@code body} at a point where no emulated write of this VM is between guest memory
     * and its notifiers: every {@link org.shadowbox.vm.Vcpu#emulatorWritePhys} or successful
     * {@link org.shadowbox.vm.Vcpu#emulatorCmpxchg} that stored has been delivered, and new ones wait until
     * {@code body} returns. This is where the MMU checker looks, so that it sees what a
     * finished run would (KVM's audit ran under {@code mmu_lock} at such points). Call it
     * without holding the MMU lock: the writes it waits for take that lock.
     *
     * @throws org.shadowbox.vm.VmException one line if an emulated write in flight does not finish within 5 s
     *                     (a notifier that hangs); {@code body} is then not run
     */
    <T> T betweenEmulatedWrites(java.util.function.Supplier<T> body);

    /**
     * Charges {@code bytes} of host memory the platform allocates on this VM's behalf to its
     * memory budget and the sandbox's, or refuses them in the budget's one line and charges
     * nothing: KVM allocates such memory with {@code GFP_KERNEL_ACCOUNT}, charging the VM
     * process's memory cgroup (TDP table pages in {@code tdp_mmu_alloc_sp}, the guest model's
     * per-frame bookkeeping). Give it back with {@link #uncharge}. On a destroyed VM both do
     * nothing: destroying it gave back everything it held.
     *
     * @param what what the bytes are for, as the refusal names it ("allocating a 4 KiB TDP table page")
     * @throws org.shadowbox.vm.VmException the budget's one line, if they do not fit
     * @since 1.2
     */
    default void charge(long bytes, String what) {
    }

    /**
     * Gives back {@code bytes} that {@link #charge} took (the table page was freed, the run ended).
     *
     * @since 1.2
     */
    default void uncharge(long bytes) {
    }
}
