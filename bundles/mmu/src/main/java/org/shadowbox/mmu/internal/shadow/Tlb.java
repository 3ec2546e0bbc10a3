package org.shadowbox.mmu.internal.shadow;

import java.util.Arrays;

/**
 * A vCPU's TLB: a direct-mapped cache of translations filled from the sptes (gva page to
 * host page, with the rights of the spte walk). It is what makes a missing TLB flush
 * observable: an entry stays usable until the vCPU flushes it, whatever happened to the
 * sptes meanwhile. A lookup allocates nothing.
 */
public final class Tlb {
    private final int mask;
    /** Tag: the gva page number, or -1 for an empty entry. */
    private final long[] vpn;
    private final long[] gfn;
    private final long[] pfn;
    private final int[] access;
    private final byte[][] page;

    /** @param entries a power of two, 1 to 65536 */
    public Tlb(int entries) {
        if (entries < 1 || entries > 65536 || Integer.bitCount(entries) != 1) {
            throw new org.shadowbox.vm.VmException("bad TLB size " + entries + ": accepted a power of two from 1 to 65536");
        }
        mask = entries - 1;
        vpn = new long[entries];
        gfn = new long[entries];
        pfn = new long[entries];
        access = new int[entries];
        page = new byte[entries][];
        flush();
    }

    public int size() {
        return vpn.length;
    }

    /** The slot of {@code gvaPage} if it is cached, else -1. */
    int lookup(long gvaPage) {
        int i = (int) gvaPage & mask;
        return vpn[i] == gvaPage ? i : -1;
    }

    void fill(long gvaPage, long gfnValue, long pfnValue, int acc, byte[] hostPage) {
        int i = (int) gvaPage & mask;
        vpn[i] = gvaPage;
        gfn[i] = gfnValue;
        pfn[i] = pfnValue;
        access[i] = acc;
        page[i] = hostPage;
    }

    void invalidate(int i) {
        vpn[i] = -1;
        page[i] = null;
    }

    /** Drops every entry. */
    void flush() {
        Arrays.fill(vpn, -1L);
        Arrays.fill(page, null);
    }

    int access(int i) {
        return access[i];
    }

    long gfn(int i) {
        return gfn[i];
    }

    long pfn(int i) {
        return pfn[i];
    }

    byte[] page(int i) {
        return page[i];
    }

    /** The gva page of slot {@code i}, or -1 if empty (for the checker). */
    long vpn(int i) {
        return vpn[i];
    }
}
