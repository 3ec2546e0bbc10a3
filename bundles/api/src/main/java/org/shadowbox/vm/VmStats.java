package org.shadowbox.vm;

/**
 * A snapshot of a VM's counters.
 *
 * @param emulatedWrites    writes through {@link Vcpu#emulatorWritePhys} (and successful cmpxchg)
 * @param cmpxchgFailed     emulated cmpxchg that found another value
 * @param hostWrites        host-side writes through {@link GuestMemory}
 * @param mmioReads         reads that hit no memslot
 * @param mmioWritesDropped writes dropped: no memslot, or a vCPU write to a read-only slot
 * @param residentPages     pages with host memory behind them
 * @param slotChanges       committed memslot changes
 */
public record VmStats(long emulatedWrites, long cmpxchgFailed, long hostWrites, long mmioReads,
        long mmioWritesDropped, long residentPages, long slotChanges) {
}
