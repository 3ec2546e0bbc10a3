package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.vm.Vcpu;

/**
 * One guest access as the processor splits it, into one piece or two at a page boundary, and
 * the access done once every piece is translated (to a host page, or to emulation): the part
 * of an access the shadow ({@link GuestAccess}) and the TDP access paths share, so the two
 * cannot drift apart. Translation, faults and restarts stay with each MMU. One instance per
 * vCPU, reused: nothing is allocated per access.
 */
public final class AccessPieces {
    private final long[] gva = new long[2];
    private final long[] gpa = new long[2];
    private final int[] len = new int[2];
    private final byte[][] page = new byte[2][];
    private final boolean[] emulate = new boolean[2];
    private int count;

    /**
     * Splits an access of {@code size} bytes at {@code gva}: a 32-bit linear address is
     * truncated (the TLB tag and CR2 are its 32 bits) and the second piece wraps at 4 GiB. With
     * paging off the processor is never in 64-bit mode (EFER.LMA needs CR0.PG): the linear
     * address is 32 bits too, as the emulator's {@code linearize} truncates it outside 64-bit
     * mode, and it is the gpa ({@code nonpaging_gva_to_gpa}).
     *
     * @param mode the guest's paging mode, or null with paging off (32 bits, no canonical check)
     * @return false if a piece is not canonical (the access raises #GP)
     */
    public boolean split(PagingMode mode, long address, int size) {
        long a = mode != null ? mode.truncate(address) : address & 0xffff_ffffL;
        int first = 4096 - (int) (a & 4095);
        count = size <= first ? 1 : 2;
        gva[0] = a;
        len[0] = Math.min(size, first);
        if (count == 2) {
            gva[1] = mode != null ? mode.truncate(a + first) : (a + first) & 0xffff_ffffL;
            len[1] = size - first;
        }
        for (int p = 0; p < count; p++) {
            if (mode != null && (!mode.canonical(gva[p]) || !mode.canonical(gva[p] + len[p] - 1))) {
                return false;
            }
        }
        return true;
    }

    /** How many pieces (1 or 2). */
    public int count() {
        return count;
    }

    /** The gva of piece {@code p}. */
    public long gva(int p) {
        return gva[p];
    }

    /** Piece {@code p} is translated: to {@code hostPage} at {@code gpa}, or to emulation. */
    public void set(int p, byte[] hostPage, long gpaValue, boolean emulated) {
        page[p] = hostPage;
        gpa[p] = gpaValue;
        emulate[p] = emulated;
    }

    /**
     * Does the access once every piece is translated: loads and stores through the host pages;
     * an emulated piece makes the whole write go through the emulator
     * ({@code emulator_write_phys}, which notifies page track) and its reads read guest memory.
     *
     * @return the emulator's write calls (0 for a read or a direct write)
     */
    /** True if a piece is emulated: the whole access then goes through the emulator by gpa. */
    public boolean emulated() {
        return emulate[0] || (count == 2 && emulate[1]);
    }

    public int perform(Vcpu vcpu, long value, int size, int acc, AccessResult out) {
        boolean emulated = emulate[0] || (count == 2 && emulate[1]);
        out.gpa = gpa[0];
        out.emulated = emulated;
        if ((acc & Pfec.WRITE) != 0) {
            int writes = 0;
            long x = value;
            for (int p = 0; p < count; p++) {
                if (emulated) {
                    writes += GuestBytes.emulateWrite(vcpu, gpa[p], x, len[p]);
                } else {
                    GuestBytes.store(page[p], (int) (gpa[p] & 4095), x, len[p]);
                }
                x = len[p] == 8 ? 0 : x >>> (8 * len[p]);
            }
            out.value = size == 8 ? value : value & ((1L << (8 * size)) - 1);
            return writes;
        }
        long x = 0;
        int shift = 0;
        for (int p = 0; p < count; p++) {
            long part = emulate[p] ? GuestBytes.readGpa(vcpu.vm().memory(), gpa[p], len[p])
                    : GuestBytes.load(page[p], (int) (gpa[p] & 4095), len[p]);
            x |= part << shift;
            shift += 8 * len[p];
        }
        out.value = x;
        return 0;
    }
}
