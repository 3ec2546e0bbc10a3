package org.shadowbox.gpu.internal;

/**
 * One shadowed guest GPU page table (KVMGT's {@code intel_vgpu_ppgtt_spt}): the guest entries
 * as last accepted from guest memory, and for each the shadow entry the GPU uses: nothing, the
 * shadow of the next table, a host page (level 1), or the scratch page. Guarded by the vGPU's
 * lock.
 */
final class ShadowTable {
    /** Shadow entry kinds. */
    static final byte NONE = 0, TABLE = 1, PAGE = 2, SCRATCH = 3;

    final long gfn;
    final int level;
    /** Guest entries as last read from guest memory (the shadow's view of the guest table). */
    final long[] guest = new long[GpuPte.ENTRIES];
    final byte[] kind = new byte[GpuPte.ENTRIES];
    /** Level > 1: the next shadow table of a TABLE entry. */
    final ShadowTable[] child;
    /** Level 1: the host frame (Memslot.hostFrame) of a PAGE entry. */
    final long[] pfn;
    /** Shadow entries pointing at this table (and contexts using it as their root). */
    int refs;
    /** Write failures (rejected sizes, invalid entries) since the last rebuild. */
    int failures;
    /** Emulated writes to the table's page delivered to the tracker. */
    long writes;
    /** False once the page's track died with its memslot: nothing to give back to page track. */
    boolean tracked = true;

    ShadowTable(long gfn, int level) {
        this.gfn = gfn;
        this.level = level;
        this.child = level > 1 ? new ShadowTable[GpuPte.ENTRIES] : null;
        this.pfn = level == 1 ? new long[GpuPte.ENTRIES] : null;
    }

    /** Whether entry {@code i}'s shadow lets the GPU write (the guest's RW bit of this level). */
    boolean writable(int i) {
        return (guest[i] & GpuPte.RW) != 0;
    }

    int count(byte k) {
        int n = 0;
        for (byte b : kind) {
            if (b == k) {
                n++;
            }
        }
        return n;
    }
}
