package org.shadowbox.vm;


import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One virtual machine: its memslots, guest memory, vCPUs and statistics (KVM's
 * {@code struct kvm}).
 *
 * <p>Memslot changes follow KVM's two phases: every {@link org.shadowbox.vm.spi.VmListener} is asked to
 * {@linkplain org.shadowbox.vm.spi.VmListener#prepareSlotChange prepare} (and may refuse), then the change is
 * committed and announced. A refused or invalid change changes nothing.
 */
@ProviderType
public interface Vm {

    String name();

    /** What the VM was created from, with every option filled in. */
    VmSpec spec();

    /** A small integer, unique among the VMs of this hypervisor run. */
    int id();

    /** Guest MAXPHYADDR in bits. */
    int maxPhyAddr();

    /** One past the highest gfn the guest can address: {@code 1 << (maxPhyAddr - 12)}. */
    default long gfnLimit() {
        return 1L << (maxPhyAddr() - 12);
    }

    /** The slots, sorted by base gfn; an immutable snapshot. */
    List<Memslot> memslots();

    /**
     * The slot that holds {@code gfn}, or {@code null} (an MMIO hole). Lock-free and
     * allocation-free: this is KVM's {@code gfn_to_memslot}.
     */
    Memslot slotForGfn(long gfn);

    /** The slot with that id, or {@code null}. */
    Memslot slot(int id);

    /**
     * {@code KVM_SET_USER_MEMORY_REGION} creating a slot. Refused: a slot id in use or out of
     * range, zero pages, a range that overlaps another slot or passes {@link #gfnLimit()},
     * unknown flags.
     */
    Memslot createSlot(SlotSpec spec);

    /** Deletes slot {@code id} and frees its memory and arch data. Refused: no such slot. */
    void deleteSlot(int id);

    /**
     * Moves slot {@code id} to {@code newBaseGfn}, keeping its memory. The new slot has zeroed
     * arch data (lpage counts, page-track counters), as in KVM. Refused like
     * {@link #createSlot}, or by a listener (page track refuses while an external tracker
     * holds tracked pages in the slot).
     */
    Memslot moveSlot(int id, long newBaseGfn);

    /** Guest physical memory as the host (userspace) sees it. */
    GuestMemory memory();

    int vcpuCount();

    /** vCPU {@code id}; a {@link VmException} for an id out of range. */
    Vcpu vcpu(int id);

    VmStats stats();

    /** This VM's memory budget and what it holds, with the sandbox-wide budget. */
    MemoryBudget memoryBudget();

    /**
     * Sets this VM's memory budget in bytes; {@link MemoryBudget#UNLIMITED} leaves only the
     * sandbox's. Refused below what the VM holds now (host memory is not taken back).
     */
    void setMemoryBudget(long limitBytes);

    /** True after {@link Hypervisor#destroyVm}; a destroyed VM refuses every change. */
    boolean destroyed();
}
