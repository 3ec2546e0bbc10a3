package org.shadowbox.guest;

import java.util.List;
import java.util.function.IntFunction;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Vm;

/**
 * Runs scenarios: boots the guest model on a VM's vCPUs, runs the named {@link Scenario},
 * then verifies the guest's view of its memory through the reference walker
 * ({@link org.shadowbox.mmu.reference.BareMetalCpu}) and through vCPU 0. Registered as a
 * service by the guest bundle, which tracks every {@link Scenario} service.
 */
@ProviderType
public interface ScenarioRunner {

    /** The scenarios there are, sorted by name. */
    List<Scenario> scenarios();

    /** The scenario of that name, or a one-line VmException listing the names there are. */
    Scenario scenario(String name);

    /**
     * Runs scenario {@code name} on {@code vm}, vCPU {@code i} being {@code cpus.apply(i)}
     * (an MMU's GuestCpu, or a BareMetalCpu). The guest's paging mode is the VM's
     * {@code paging} option ("off" boots a 64-bit guest). Scale below 1 is refused. The run
     * {@linkplain org.shadowbox.vm.Vcpu#claim claims} every vCPU of the VM for its duration: a VM
     * with a vCPU something else drives (another run, a shell command) is refused, untouched.
     *
     * @param progress told of progress now and then, or null
     * @throws org.shadowbox.vm.VmException one line: bad input, a busy vCPU, the scenario failed, or the guest's
     *         memory was found corrupted (naming where)
     */
    ScenarioResult run(String name, Vm vm, IntFunction<GuestCpu> cpus, long scale, long seed, Progress progress);

    /**
     * {@link #run(String, Vm, IntFunction, long, long, Progress)} with the guest's vCPUs driven by
     * {@code threads} host threads, vCPU {@code v} by thread {@code v % threads}. One thread
     * (what the other {@code run} does) interleaves every vCPU in an order drawn from the seed:
     * the same seed gives the same counts and checksum. With more, the vCPUs run at once and
     * the guest kernel is an SMP kernel (user accesses lock-free, kernel operations under
     * Linux's split locks: per address space, allocator, page cache, process tree); the interleaving is the host's, so counts and checksum may differ run to
     * run, while the guest's memory is verified after the run all the same. The calling thread
     * is thread 0 and hears the progress; {@code cpus} is asked for every vCPU on it before the
     * run, and each vCPU is then driven by its thread alone (a {@link GuestCpu} must allow
     * that: KVM's vCPUs do).
     *
     * @param threads 1 to the VM's vCPU count; anything else is refused in one line
     * @since 1.1
     */
    ScenarioResult run(String name, Vm vm, IntFunction<GuestCpu> cpus, long scale, long seed, int threads,
            Progress progress);

    /**
     * Refuses, in one line and before anything changes, a run of scenario {@code name} at
     * {@code scale} that cannot fit {@code vm}: {@link Scenario#check} of the scale, then the
     * scenario's {@link Scenario#guestPages} against (a) the VM's usable guest RAM (a run that
     * would certainly fail "guest out of memory"), (b) the room the VM's own memory budget
     * leaves and (c) the room the sandbox's leaves, for every guest page the run could make
     * resident that is not resident yet, the guest model's bookkeeping per guest frame and the
     * MMU's metadata. The line names the budget, the need, the room and how to raise it.
     * {@link #run} calls it too.
     *
     * @throws org.shadowbox.vm.VmException one line
     * @since 1.3
     */
    void checkFits(String name, Vm vm, long scale);

    /**
     * The host memory a run of scenario {@code name} at {@code scale} can take at most on a fresh
     * VM of {@code vcpus} vCPUs and {@code memoryBytes} of guest RAM (PC layout) under
     * {@code mmu}: guest pages, the guest model's bookkeeping and the MMU's metadata; -1 if the
     * scenario does not know its bound. For a check before the VMs exist ({@code run:compare}).
     *
     * @throws org.shadowbox.vm.VmException one line: no such scenario, or the scale refused
     * @since 1.3
     */
    long hostBytesAtMost(String name, long scale, int vcpus, long memoryBytes, String mmu);

    /** Progress of a run, for a progress bar; called on the calling thread, now and then. */
    @ConsumerType
    interface Progress {
        /**
         * @param done     units done of {@code total} (the scenario's units)
         * @param accesses guest accesses so far
         */
        void progress(long done, long total, long accesses);
    }
}
