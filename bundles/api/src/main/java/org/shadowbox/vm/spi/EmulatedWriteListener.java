package org.shadowbox.vm.spi;

import org.shadowbox.vm.Vcpu;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told of every emulated guest write after guest memory holds the new bytes: the hook
 * through which {@code emulator_write_phys} calls {@code kvm_page_track_write}. The
 * page-track bundle registers one as an OSGi service; the VM calls every registered one,
 * without a lock, on the writing vCPU's thread, inside that vCPU's emulated-write section:
 * the calls for one vCPU come from one thread at a time (the emulator's part of KVM's
 * {@code vcpu->mutex}; an isolated notifier's courier writing for the vCPU's thread runs
 * while that thread waits for it), so a listener may keep per-vCPU counts without atomics.
 * Only a second thread driving the same vCPU at once, which the API forbids, breaks that:
 * such counts may then lose increments, and nothing else may depend on it.
 *
 * <p>This is a platform hook, not the tracker SPI: trackers implement page track's
 * notifier interface instead.
 */
@ConsumerType
public interface EmulatedWriteListener {
    /**
     * @param vcpu  the writing vCPU
     * @param gpa   first byte written (the write does not cross a page)
     * @param value the bytes written, little-endian in the low {@code bytes} bytes
     * @param bytes 1 to 8
     */
    void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes);
}
