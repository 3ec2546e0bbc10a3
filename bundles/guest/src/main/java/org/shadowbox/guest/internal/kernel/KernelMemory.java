package org.shadowbox.guest.internal.kernel;

import org.shadowbox.mmu.GuestCpu;

/**
 * The kernel's own loads and stores: every one a supervisor access on a vCPU at the direct-map
 * address of a guest-physical address (identity before paging is on), so the MMU sees it as a
 * real guest's (trapped and emulated on a write-protected page table, native otherwise). Page
 * clears and copies are 512 eight-byte accesses, as {@code clear_page} ({@code rep stosq}) and
 * {@code copy_page} ({@code rep movsq}) do, each made as one string instruction ({@link
 * GuestCpu#writeString}, {@link GuestCpu#copyString}). A kernel access that faults is a broken
 * MMU or a broken model: it throws {@link GuestCorruption}.
 */
final class KernelMemory {
    private final GuestCpu[] cpus;
    private final Counters counters;
    private long base;
    /**
     * Whether a data page's clear, copy or page-cache fill simulates only the stores (and loads)
     * of the words the guest's memory image tracks, and charges the rest in aggregate as TLB hits
     * ({@link GuestCpu#retire}): a trace replay's setting (docs/replay.md). Page-table pages are
     * always cleared whole (a stale word there would be a stale entry).
     */
    private boolean aggregateData;

    KernelMemory(GuestCpu[] cpus, Counters counters) {
        this.cpus = cpus;
        this.counters = counters;
    }

    /** Paging is on: from now on the kernel reaches RAM at {@code directMapBase + gpa}. */
    void useDirectMap(long directMapBase) {
        base = directMapBase;
    }

    long address(long gpa) {
        return base + gpa;
    }

    GuestCpu cpu(int i) {
        return cpus[i];
    }

    long read(int cpu, long gpa, int size) {
        GuestCpu c = cpus[cpu];
        counters.cpu[cpu].kernelAccesses++;
        if (!c.read(base + gpa, size, false)) {
            throw fault(c, "read", gpa);
        }
        return c.value();
    }

    void write(int cpu, long gpa, long value, int size) {
        GuestCpu c = cpus[cpu];
        counters.cpu[cpu].kernelAccesses++;
        if (!c.write(base + gpa, value, size, false)) {
            throw fault(c, "write", gpa);
        }
    }

    /** {@code clear_page}: {@code rep stosq}, 512 stores of 0 ({@link GuestCpu#writeString}). */
    void clearPage(int cpu, long gfn) {
        GuestCpu c = cpus[cpu];
        long gpa = gfn << 12;
        counters.cpu[cpu].kernelAccesses += 512;
        int n = c.writeString(base + gpa, 0, 8, 512, false);
        if (n != 512) {
            throw fault(c, "write", gpa + 8L * n);
        }
    }

    /** Data-page clears and copies from now on as {@link #aggregateData} says. */
    void aggregateDataCopies(boolean on) {
        aggregateData = on;
    }

    /**
     * {@code clear_page} of a new anonymous page: whole, or, aggregated, the tracked words stored
     * one by one (the accesses that can trap: the first touch of the page through the direct map,
     * a write to a page still shadowed as a page table) and the other stores retired as TLB hits.
     */
    void clearDataPage(int cpu, long gfn) {
        if (!aggregateData) {
            clearPage(cpu, gfn);
            return;
        }
        long gpa = gfn << 12;
        for (int s = 0; s < MemoryImage.SLOTS; s++) {
            write(cpu, gpa + (long) s * MemoryImage.SLOT_BYTES, 0, 8);
        }
        cpus[cpu].retire(512 - MemoryImage.SLOTS, false);
    }

    /**
     * A page-cache page read in from "disk" (the file's words stored by the kernel): whole, or as
     * {@link #clearDataPage} aggregates (the tracked words stored, the rest retired as TLB hits).
     */
    void fillDataPage(int cpu, long gfn, int file, long page) {
        long gpa = gfn << 12;
        if (!aggregateData) {
            for (int w = 0; w < 512; w++) {
                write(cpu, gpa + 8L * w, MemoryImage.fileWord(file, page, w), 8);
            }
            return;
        }
        int step = MemoryImage.SLOT_BYTES / 8;
        for (int s = 0; s < MemoryImage.SLOTS; s++) {
            write(cpu, gpa + (long) s * MemoryImage.SLOT_BYTES, MemoryImage.fileWord(file, page, s * step), 8);
        }
        cpus[cpu].retire(512 - MemoryImage.SLOTS, false);
    }

    /** {@code copy_page} of a copy-on-write break: whole, or as {@link #clearDataPage} aggregates. */
    void copyDataPage(int cpu, long fromGfn, long toGfn) {
        if (!aggregateData) {
            copyPage(cpu, fromGfn, toGfn);
            return;
        }
        long from = fromGfn << 12;
        long to = toGfn << 12;
        for (int s = 0; s < MemoryImage.SLOTS; s++) {
            long off = (long) s * MemoryImage.SLOT_BYTES;
            write(cpu, to + off, read(cpu, from + off, 8), 8);
        }
        cpus[cpu].retire(2 * (512 - MemoryImage.SLOTS), false);
    }

    /** {@code copy_page}: {@code rep movsq}, 512 loads and stores, alternating ({@link GuestCpu#copyString}). */
    void copyPage(int cpu, long fromGfn, long toGfn) {
        GuestCpu c = cpus[cpu];
        long from = fromGfn << 12;
        long to = toGfn << 12;
        counters.cpu[cpu].kernelAccesses += 1024;
        int n = c.copyString(base + to, base + from, 8, 512, false);
        if (n != 512) {
            throw fault(c, "copy", to + 8L * n);
        }
    }

    private GuestCorruption fault(GuestCpu c, String what, long gpa) {
        return new GuestCorruption("kernel " + what + " of gpa 0x" + Long.toHexString(gpa) + " at gva 0x"
                + Long.toHexString(base + gpa) + " on vCPU " + c.vcpu().id() + " faulted (exception "
                + c.exception() + ", error code 0x" + Integer.toHexString(c.errorCode()) + ")");
    }
}
