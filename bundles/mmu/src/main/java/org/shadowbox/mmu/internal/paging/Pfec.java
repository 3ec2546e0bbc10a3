package org.shadowbox.mmu.internal.paging;

/**
 * Page-fault error code bits (KVM's {@code PFERR_*_MASK}). The same bits describe an
 * access: a write, a user-mode access, an instruction fetch.
 */
public final class Pfec {
    public static final int PRESENT = 1;      // PFERR_PRESENT_MASK
    public static final int WRITE = 1 << 1;   // PFERR_WRITE_MASK
    public static final int USER = 1 << 2;    // PFERR_USER_MASK
    public static final int RSVD = 1 << 3;    // PFERR_RSVD_MASK
    public static final int FETCH = 1 << 4;   // PFERR_FETCH_MASK
    public static final int PK = 1 << 5;      // PFERR_PK_MASK

    private Pfec() {
    }

    /** "P|W|U|RSVD|I/D" style names, or "0". */
    public static String describe(int pfec) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"P", "W", "U", "RSVD", "I/D", "PK"};
        for (int i = 0; i < names.length; i++) {
            if ((pfec & (1 << i)) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(names[i]);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }
}
