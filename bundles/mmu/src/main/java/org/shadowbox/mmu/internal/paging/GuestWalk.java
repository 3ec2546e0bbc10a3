package org.shadowbox.mmu.internal.paging;

/**
 * The outcome of one guest walk ({@code struct guest_walker}): reused by its owner, so a
 * walk allocates nothing. Arrays are indexed by level (1 = PTE ... 4 = PML4E).
 */
public final class GuestWalk {
    /** No exception: {@link #gpa} is the translation. */
    public static final int OK = 0;
    /** #PF with {@link #errorCode}. */
    public static final int PAGE_FAULT = 14;
    /** #GP: a non-canonical address in 64-bit mode. */
    public static final int GENERAL_PROTECTION = 13;

    public int exception;
    public int errorCode;
    public long gva;
    public long gpa;
    /** Level of the leaf entry (1 for a 4 KiB page), or of the entry that faulted. */
    public int level;
    public final long[] pteGpa = new long[5];
    public final long[] pte = new long[5];
    /** Effective rights of the translation: the AND (NX: the OR) over the levels. */
    public boolean user;
    public boolean writable;
    public boolean nx;

    public boolean ok() {
        return exception == OK;
    }

    /** Size in bytes of the page the translation maps. */
    public long pageSize(PagingMode mode) {
        if (mode == PagingMode.BITS32) {
            return level == 2 ? 4L << 20 : 4096;
        }
        return 1L << (12 + 9 * (level - 1));
    }

    @Override
    public String toString() {
        if (exception == GENERAL_PROTECTION) {
            return "#GP(0) at gva 0x" + Long.toHexString(gva);
        }
        if (exception == PAGE_FAULT) {
            return "#PF at gva 0x" + Long.toHexString(gva) + " error code " + Pfec.describe(errorCode)
                    + " (level " + level + ")";
        }
        return "gva 0x" + Long.toHexString(gva) + " -> gpa 0x" + Long.toHexString(gpa) + " (level " + level + ")";
    }
}
