package org.shadowbox.vm;


import org.osgi.annotation.versioning.ProviderType;

/**
 * One vCPU: its registers and the emulator's guest-physical write path.
 *
 * <p>A vCPU is driven by one thread at a time (as a KVM vCPU is by its {@code ioctl}
 * thread); different vCPUs run concurrently. Whoever drives a vCPU for longer than one call
 * (a scenario run, a shell command) first {@linkplain #claim claims} it, so that a second
 * driver is refused in one line instead of racing the first.
 */
@ProviderType
public interface Vcpu {

    int id();

    Vm vm();

    long get(Register r);

    /**
     * Claims this vCPU for {@code who} until the returned claim is closed: the sandbox's form
     * of KVM's {@code vcpu->mutex}, which every vCPU ioctl takes. Unlike the mutex it never
     * waits and belongs to an activity, not a thread (a run may drive the vCPU from a thread
     * of its own): if the vCPU is already claimed, it throws at once.
     *
     * @param who what will drive the vCPU, for the refusal another driver gets, e.g.
     *            "run:scenario kernel-build"
     * @throws VmException one line: the vCPU is busy, naming who holds it and since when
     */
    VcpuClaim claim(String who);

    /** Who holds this vCPU's {@link #claim}, e.g. "run:scenario kernel-build", or null if nobody. */
    String claimedBy();

    /**
     * Sets a register as the guest's {@code mov to CR0/CR3/CR4}, {@code wrmsr EFER} or
     * {@code popf} would, held to x86's rules as KVM applies them ({@code kvm_set_cr0},
     * {@code kvm_set_cr3}, {@code kvm_set_cr4}, {@code set_efer}): CR0.PG needs CR0.PE,
     * CR0.NW needs CR0.CD, CR0 bits 63:32 and reserved CR4, EFER and RFLAGS bits are refused,
     * CR4.PAE and CR0.PG stay set in long mode, EFER.LME does not change while paging, CR3 has
     * no bit at or above MAXPHYADDR, RFLAGS bit 1 is set. The processor's side effects follow:
     * CR0.PG set with EFER.LME sets EFER.LMA; EFER.LMA is not writable; CR0.ET reads 1 and
     * CR0's other reserved low bits are ignored. Listeners that care (the MMU) see the change
     * on the next access.
     *
     * @throws VmException one line naming the #GP rule; the registers are unchanged
     */
    void set(Register r, long value);

    /**
     * Resets the registers to the state after INIT ({@code kvm_vcpu_reset}): CR0 = CD | NW | ET,
     * CR2 = CR3 = CR4 = EFER = 0, RFLAGS = 0x2. What a guest that wants another paging mode
     * than the one it is in starts from, since x86 leaves long mode only through it.
     */
    void reset();

    /**
     * KVM's {@code emulator_write_phys}: stores the low {@code bytes} of {@code value} at
     * {@code gpa}, then tells every {@link org.shadowbox.vm.spi.EmulatedWriteListener} (page track's
     * {@code kvm_page_track_write}). A write that crosses a page is split at the boundary
     * into two writes, each written and then notified, as the emulator's
     * {@code emulator_read_write_onepage} does. A write to a gpa in no memslot or in a
     * read-only slot is dropped as MMIO and notifies nobody.
     *
     * @param bytes 1 to 8 (an instruction's operand, or the piece of one that an emulator
     *              split at a page boundary)
     */
    void emulatorWritePhys(long gpa, long value, int bytes);

    /**
     * KVM's {@code emulator_cmpxchg_emulated}: if memory at {@code gpa} holds {@code old},
     * stores {@code value} and notifies as {@link #emulatorWritePhys}; otherwise writes and
     * notifies nothing. Refused for a gpa range that crosses a page (KVM falls back to a
     * plain write there; Shadowbox refuses so that atomicity is never silently lost).
     *
     * @return true if the exchange happened
     */
    boolean emulatorCmpxchg(long gpa, long old, long value, int bytes);
}
