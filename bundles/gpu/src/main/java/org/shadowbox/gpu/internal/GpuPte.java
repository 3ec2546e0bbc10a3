package org.shadowbox.gpu.internal;

/**
 * The guest's GPU page-table format, a PPGTT-like 4-level table of 512 eight-byte entries per
 * 4 KiB page, walked by GPU virtual address (48 bits: 9 bits per level above a 12-bit offset),
 * as Intel's per-process GTT (PPGTT) is. An entry: bit 0 present, bit 1 writable, bits 12-51 the
 * guest frame of the next table or, at level 1, of the data page; every other bit is reserved
 * and must be 0, else the entry is invalid.
 */
final class GpuPte {
    static final long P = 1;
    static final long RW = 2;
    static final long ADDR = 0x000f_ffff_ffff_f000L;
    static final long RESERVED = ~(ADDR | P | RW);
    static final int ENTRIES = 512;
    static final int TOP_LEVEL = 4;
    /** GPU virtual addresses are below 2^48. */
    static final long VA_LIMIT = 1L << 48;

    private GpuPte() {
    }

    /** The index of {@code gva}'s entry in a table of {@code level} (4 top, 1 leaf). */
    static int index(long gva, int level) {
        return (int) (gva >>> (12 + 9 * (level - 1))) & (ENTRIES - 1);
    }

    static long gfn(long pte) {
        return (pte & ADDR) >>> 12;
    }

    static boolean present(long pte) {
        return (pte & P) != 0;
    }

    static boolean valid(long pte) {
        return (pte & RESERVED) == 0;
    }

    /** A present entry for {@code gfn}. */
    static long make(long gfn, boolean writable) {
        return (gfn << 12) & ADDR | P | (writable ? RW : 0);
    }

    /** "P|RW -> 0x1234" for people. */
    static String decode(long pte) {
        if (!present(pte)) {
            return pte == 0 ? "-" : "not present (0x" + Long.toHexString(pte) + ")";
        }
        return "P" + ((pte & RW) != 0 ? "|RW" : "") + (valid(pte) ? "" : "|RESERVED") + " -> 0x" + Long.toHexString(gfn(pte));
    }
}
