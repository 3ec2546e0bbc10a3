package org.shadowbox.vm;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Guest physical memory, routed through the memslots. Sparse: host memory is taken
 * only for pages that were written, so a VM may declare far more than the host has.
 *
 * <p>Accesses are little-endian, of 1, 2, 4 or 8 bytes at any alignment, and may cross
 * a page or a slot boundary (each byte goes where its own gpa says). A gpa in no memslot
 * is an MMIO hole with no device behind it: reads return all ones, writes are dropped and
 * counted, as KVM does for unbacked addresses without an MMIO handler.
 *
 * <p>These are host-side accesses (what userspace does to guest RAM): they notify no
 * page-track notifier. A guest's emulated writes go through
 * {@link Vcpu#emulatorWritePhys}.
 */
@ProviderType
public interface GuestMemory {

    /** Reads {@code size} bytes (1, 2, 4 or 8) at {@code gpa}, zero-extended. */
    long read(long gpa, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code gpa}. */
    void write(long gpa, long value, int size);

    /** Bulk read into {@code dst[off, off+len)}. */
    void read(long gpa, byte[] dst, int off, int len);

    /** Bulk write from {@code src[off, off+len)}. */
    void write(long gpa, byte[] src, int off, int len);

    /** Pages that have host memory behind them, over all slots. */
    long residentPages();

    /** Reads that hit no memslot. */
    long mmioReads();

    /** Writes that hit no memslot (or a read-only slot from a vCPU) and were dropped. */
    long mmioWritesDropped();
}
