package org.shadowbox.audit.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A bounded ring of audit entries for one VM, kept in primitive arrays so that recording
 * allocates nothing. When full, the oldest entry is overwritten and counted as dropped.
 *
 * <p>Thread-safe: vCPUs append concurrently; a short monitor orders them, and the sequence
 * number is taken under it, so sequence order is recording order.
 */
final class WriteLog {

    private static final byte KIND_WRITE = 0;
    private static final byte KIND_REGION_REMOVED = 1;

    private final int capacity;
    private final long[] time;
    private final long[] gpa;   // gfn for a removed region
    private final long[] value; // npages for a removed region
    private final int[] vcpu;   // forgotten gfns for a removed region
    private final byte[] size;
    private final byte[] kind;
    /** Entries ever appended; the newest has seq == total. */
    private long total;

    WriteLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("audit log capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
        this.time = new long[capacity];
        this.gpa = new long[capacity];
        this.value = new long[capacity];
        this.vcpu = new int[capacity];
        this.size = new byte[capacity];
        this.kind = new byte[capacity];
    }

    /** Records an emulated write. Allocation-free. */
    synchronized void appendWrite(long now, int vcpuId, long writeGpa, long newValue, int bytes) {
        int i = (int) (total++ % capacity);
        kind[i] = KIND_WRITE;
        time[i] = now;
        vcpu[i] = vcpuId;
        gpa[i] = writeGpa;
        size[i] = (byte) bytes;
        value[i] = newValue;
    }

    /** Records that a deleted slot took {@code forgotten} watched gfns with it. */
    synchronized void appendRegionRemoved(long now, long gfn, long npages, int forgotten) {
        int i = (int) (total++ % capacity);
        kind[i] = KIND_REGION_REMOVED;
        time[i] = now;
        vcpu[i] = forgotten;
        gpa[i] = gfn;
        size[i] = 0;
        value[i] = npages;
    }

    int capacity() {
        return capacity;
    }

    /** The entries still held, oldest first, with the totals as they were at that instant. */
    synchronized Snapshot snapshot() {
        long first = Math.max(0, total - capacity);
        List<AuditEntry> entries = new ArrayList<>((int) (total - first));
        for (long s = first; s < total; s++) {
            int i = (int) (s % capacity);
            entries.add(kind[i] == KIND_WRITE
                    ? new AuditEntry.Write(s + 1, time[i], vcpu[i], gpa[i], size[i], value[i])
                    : new AuditEntry.RegionRemoved(s + 1, time[i], gpa[i], value[i], vcpu[i]));
        }
        return new Snapshot(total, first, capacity, List.copyOf(entries));
    }

    /**
     * @param recorded entries ever recorded
     * @param dropped  entries overwritten because the ring was full
     * @param capacity the ring's size
     * @param entries  what the ring holds, oldest first
     */
    record Snapshot(long recorded, long dropped, int capacity, List<AuditEntry> entries) {
    }
}
