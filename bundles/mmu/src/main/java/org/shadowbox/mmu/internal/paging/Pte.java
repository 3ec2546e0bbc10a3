package org.shadowbox.mmu.internal.paging;

/** Guest page-table entry bits (x86 names; KVM's {@code PT_*_MASK}). */
public final class Pte {
    public static final long P = 1L;             // PT_PRESENT_MASK
    public static final long RW = 1L << 1;       // PT_WRITABLE_MASK
    public static final long US = 1L << 2;       // PT_USER_MASK
    public static final long PWT = 1L << 3;
    public static final long PCD = 1L << 4;
    public static final long A = 1L << 5;        // PT_ACCESSED_MASK
    public static final long D = 1L << 6;        // PT_DIRTY_MASK
    public static final long PS = 1L << 7;       // PT_PAGE_SIZE_MASK
    public static final long G = 1L << 8;
    public static final long PAT_LARGE = 1L << 12; // PAT bit of a 2M/4M/1G entry
    public static final long NX = 1L << 63;      // PT64_NX_MASK

    private Pte() {
    }

    /** Bits {@code lo} to {@code hi} inclusive. */
    public static long bits(int lo, int hi) {
        return hi >= 63 ? -1L << lo : ((1L << (hi + 1)) - 1) & (-1L << lo);
    }

    /** Names of the set bits among P RW US A D PS NX, for messages. */
    public static String describe(long pte) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"P", "RW", "US", "PWT", "PCD", "A", "D", "PS"};
        for (int i = 0; i < names.length; i++) {
            if ((pte & (1L << i)) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(names[i]);
            }
        }
        if ((pte & NX) != 0) {
            sb.append(sb.length() == 0 ? "" : "|").append("NX");
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }
}
