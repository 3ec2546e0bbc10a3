package org.shadowbox.gpu.internal;

/**
 * A vGPU's counters, guarded by the vGPU's lock; {@link #snapshot} copies them into a record.
 */
final class GpuStats {
    /** Emulated writes that landed in a shadowed GPU table page. */
    long writes;
    /** Of those, 4- and 8-byte writes: entries re-read, validated and shadowed. */
    long writesHandled;
    /** Of those, writes of another size: refused, counted as a failure of the table. */
    long rejections;
    /** Entries written with reserved bits set: not present in the shadow, a failure of the table. */
    long invalidEntries;
    /** Entries pointing outside the memslots or at a page not given to the GPU: mapped to scratch. */
    long violations;
    /** Tables whose shadow was invalidated and rebuilt after more than 3 failures. */
    long rebuilds;
    long tablesShadowed;
    long tablesUnshadowed;
    /** {@code track_remove_region} calls that touched this vGPU. */
    long regionsRemoved;
    long submits;
    long commands;
    /** Commands refused by the command parser (unknown opcode, length too large): the batch stops. */
    long badCommands;
    long bytesRead;
    long bytesWritten;
    /** Bytes the GPU accessed with no mapping, or wrote through a read-only one: read as 0, writes dropped. */
    long faultBytes;
    /** Bytes the GPU accessed on the scratch page: read as 0, writes dropped. */
    long scratchBytes;

    /** The counters as {@code gpu:stats} shows them. */
    record Snapshot(long trackedPages, long writes, long writesHandled, long rejections, long invalidEntries,
            long violations, long rebuilds, long tablesShadowed, long tablesUnshadowed, long regionsRemoved,
            long submits, long commands, long badCommands, long bytesRead, long bytesWritten, long faultBytes,
            long scratchBytes) {
    }

    Snapshot snapshot(long trackedPages) {
        return new Snapshot(trackedPages, writes, writesHandled, rejections, invalidEntries, violations, rebuilds,
                tablesShadowed, tablesUnshadowed, regionsRemoved, submits, commands, badCommands, bytesRead,
                bytesWritten, faultBytes, scratchBytes);
    }
}
