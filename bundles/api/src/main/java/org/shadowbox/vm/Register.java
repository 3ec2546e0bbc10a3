package org.shadowbox.vm;

/** The vCPU state the MMU needs, by KVM's names. */
public enum Register {
    CR0, CR2, CR3, CR4, EFER, RFLAGS;

    /** CR0.PG */
    public static final long CR0_PG = 1L << 31;
    /** CR0.WP */
    public static final long CR0_WP = 1L << 16;
    /** CR0.PE */
    public static final long CR0_PE = 1L;
    /** CR4.PSE */
    public static final long CR4_PSE = 1L << 4;
    /** CR4.PAE */
    public static final long CR4_PAE = 1L << 5;
    /** CR4.SMEP */
    public static final long CR4_SMEP = 1L << 20;
    /** CR4.SMAP */
    public static final long CR4_SMAP = 1L << 21;
    /** EFER.LME */
    public static final long EFER_LME = 1L << 8;
    /** EFER.LMA */
    public static final long EFER_LMA = 1L << 10;
    /** EFER.NXE */
    public static final long EFER_NXE = 1L << 11;
    /** RFLAGS.AC */
    public static final long RFLAGS_AC = 1L << 18;

    /** Parses {@code cr0}, {@code CR3}, ... or fails with the accepted names. */
    public static Register parse(String s) {
        for (Register r : values()) {
            if (r.name().equalsIgnoreCase(s)) {
                return r;
            }
        }
        throw new VmException("unknown register '" + s + "': accepted cr0, cr2, cr3, cr4, efer, rflags");
    }
}
