package org.shadowbox.vm;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One vCPU: its registers and the emulator's guest-physical write path.
 *
 * <p>A vCPU is driven by one thread at a time (as a KVM vCPU is by its {@code ioctl}
 * thread); different vCPUs run concurrently.
 */
@ProviderType
public interface Vcpu {

    int id();

    Vm vm();

    long get(Register r);

    /** Sets a register. Listeners that care (the MMU) see the change on the next access. */
    void set(Register r, long value);

    /**
     * KVM's {@code emulator_write_phys}: stores the low {@code bytes} of {@code value} at
     * {@code gpa}, then tells every {@link EmulatedWriteListener} (page track's
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
