package org.shadowbox.audit.internal;

/**
 * One line of an audit log, as {@code audit:log} shows it. Entries are numbered per VM from 1
 * in the order they were recorded.
 */
sealed interface AuditEntry permits AuditEntry.Write, AuditEntry.RegionRemoved {

    /** Position in the VM's log, from 1; gaps never occur, old entries are dropped from the front. */
    long seq();

    /** Wall-clock time of the recording, milliseconds since the epoch. */
    long timeMillis();

    /**
     * An emulated write to a watched page, as {@code track_write} delivered it.
     *
     * @param vcpu  the writing vCPU
     * @param gpa   the first byte written
     * @param size  bytes written, 1 to 8
     * @param value the bytes written, little-endian in the low {@code size} bytes
     */
    record Write(long seq, long timeMillis, int vcpu, long gpa, int size, long value) implements AuditEntry {
    }

    /**
     * {@code track_remove_region}: a memslot holding watched pages was deleted and the audit
     * stopped watching them (their page-track counters went with the slot).
     *
     * @param gfn       first frame of the deleted slot
     * @param npages    its size in pages
     * @param forgotten how many watched gfns were in it
     */
    record RegionRemoved(long seq, long timeMillis, long gfn, long npages, int forgotten) implements AuditEntry {
    }
}
