package org.shadowbox.guest.internal.kernel;

/**
 * What the guest believes its data pages hold: eight tracked words per page (at offsets 0,
 * 512, ... 3584), set when the guest clears, copies, fills or writes them. User programs read
 * and write only these words, so every read is checked against the belief on the spot, and the
 * whole image is checked at the end against memory read back through the reference walker.
 */
final class MemoryImage {
    static final int SLOTS = 8;
    static final int SLOT_BYTES = 4096 / SLOTS;

    private final long[] expect;

    MemoryImage(int frames) {
        expect = new long[frames * SLOTS];
    }

    long get(long gfn, int slot) {
        return expect[(int) gfn * SLOTS + slot];
    }

    void set(long gfn, int slot, long value) {
        expect[(int) gfn * SLOTS + slot] = value;
    }

    void clear(long gfn) {
        java.util.Arrays.fill(expect, (int) gfn * SLOTS, (int) gfn * SLOTS + SLOTS, 0L);
    }

    void copy(long from, long to) {
        System.arraycopy(expect, (int) from * SLOTS, expect, (int) to * SLOTS, SLOTS);
    }

    /** Word {@code word} (0-511) of page {@code page} of file {@code file}: what the "disk" holds. */
    static long fileWord(int file, long page, int word) {
        long z = (((long) file << 40) ^ (page << 12) ^ word) * 0x9e37_79b9_7f4a_7c15L;
        z = (z ^ (z >>> 31)) * 0xbf58_476d_1ce4_e5b9L;
        return z ^ (z >>> 29);
    }
}
