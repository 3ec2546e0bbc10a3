package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.mmu.internal.paging.Rights;

import java.util.Arrays;

import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmException;

/**
 * A vCPU's TLB under TDP: a direct-mapped cache of combined translations, gva page to host
 * page, holding the guest's rights (from its own walk) and the TDP entry's write right
 * separately, so the hardware check can apply the guest's CR0.WP, SMEP and SMAP and then
 * the TDP permission. An entry remembers whether the guest leaf was dirty: a write through
 * a clean entry walks again to set D, as the processor does.
 *
 * <p>For the checker, an entry also remembers the guest entries its walk read and the
 * vCPU's guest-flush count when it was filled. A lookup allocates nothing.
 */
public final class TdpTlb {
    /** Entry bits: the guest's rights ({@link Spte#ACC_EXEC}, {@code ACC_WRITE}, {@code ACC_USER}). */
    static final int GUEST_ACC = Spte.ACC_ALL;
    /** The guest had paging off: no guest protection at all. */
    static final int NO_PAGING = 8;
    /** The guest leaf had D set (or there is no guest paging). */
    static final int DIRTY = 16;
    /** The TDP leaf is writable. */
    static final int TDP_WRITE = 32;

    private final int mask;
    private final long[] vpn;
    private final long[] gfn;
    private final long[] pfn;
    private final int[] bits;
    /**
     * Per entry, {@link #allows}'s answer for the 8 combinations of write, user and fetch, each
     * with EFLAGS.AC clear and set, decided at fill time ({@link #hitAllows}): CR0.WP and CR4
     * cannot change without a flush of this TLB, EFLAGS.AC can. The processor caches the same
     * decision with the translation (as the shadow MMU's {@code Tlb} does).
     */
    private final int[] allowed;
    private final byte[][] page;
    private final long[] epoch;
    /** Per entry, up to 4 guest entries walked (top level first): their gpas and values. */
    private final long[] pathGpa;
    private final long[] pathPte;
    private final int[] pathLen;
    private final int[] pteSize;

    /** @param entries a power of two, 1 to 65536 */
    public TdpTlb(int entries) {
        if (entries < 1 || entries > 65536 || Integer.bitCount(entries) != 1) {
            throw new VmException("bad TLB size " + entries + ": accepted a power of two from 1 to 65536");
        }
        mask = entries - 1;
        vpn = new long[entries];
        gfn = new long[entries];
        pfn = new long[entries];
        bits = new int[entries];
        allowed = new int[entries];
        page = new byte[entries][];
        epoch = new long[entries];
        pathGpa = new long[entries * 4];
        pathPte = new long[entries * 4];
        pathLen = new int[entries];
        pteSize = new int[entries];
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

    /**
     * Fills the slot of {@code gvaPage}, the guest's CR0 and CR4 being {@code cr0} and {@code cr4}
     * (they cannot change before this TLB is flushed); {@link #recordPath} adds the walk for the
     * checker.
     */
    int fill(long gvaPage, long gfnValue, long pfnValue, int entryBits, byte[] hostPage, long fillEpoch, long cr0,
            long cr4) {
        int i = (int) gvaPage & mask;
        int ok = 0;
        for (int k = 0; k < 16; k++) {
            int acc = ((k & 1) != 0 ? Pfec.WRITE : 0) | ((k & 2) != 0 ? Pfec.USER : 0) | ((k & 4) != 0 ? Pfec.FETCH : 0);
            if (entryAllows(entryBits, acc, cr0, cr4, (k & 8) != 0 ? Register.RFLAGS_AC : 0)) {
                ok |= 1 << k;
            }
        }
        vpn[i] = gvaPage;
        gfn[i] = gfnValue;
        pfn[i] = pfnValue;
        bits[i] = entryBits;
        allowed[i] = ok;
        page[i] = hostPage;
        epoch[i] = fillEpoch;
        pathLen[i] = 0;
        return i;
    }

    void recordPath(int i, int k, long gpa, long pte, int size) {
        pathGpa[i * 4 + k] = gpa;
        pathPte[i * 4 + k] = pte;
        pathLen[i] = k + 1;
        pteSize[i] = size;
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

    /**
     * The hardware's check of a cached translation: the guest's rights with its CR0.WP,
     * CR4.SMEP, CR4.SMAP and RFLAGS.AC ({@code permission_fault}), then the TDP write right;
     * a write also needs the guest leaf dirty.
     */
    boolean allows(int i, int acc, long cr0, long cr4, long rflags) {
        return entryAllows(bits[i], acc, cr0, cr4, rflags);
    }

    /**
     * {@link #allows} as decided when slot {@code i} was filled, with EFLAGS.AC {@code ac}: for
     * the hit path, while CR0 and CR4 are those of the fill (no flush since).
     */
    boolean hitAllows(int i, int acc, boolean ac) {
        int k = ((acc >>> 1) & 3) | ((acc >>> 2) & 4) | (ac ? 8 : 0);
        return ((allowed[i] >>> k) & 1) != 0;
    }

    private static boolean entryAllows(int b, int acc, long cr0, long cr4, long rflags) {
        boolean write = (acc & Pfec.WRITE) != 0;
        if (write && (b & (TDP_WRITE | DIRTY)) != (TDP_WRITE | DIRTY)) {
            return false;
        }
        if ((b & NO_PAGING) != 0) {
            return true;
        }
        return !Rights.permissionFault(acc, (b & Spte.ACC_USER) != 0, (b & Spte.ACC_WRITE) != 0,
                (b & Spte.ACC_EXEC) == 0, cr0, cr4, rflags);
    }

    long vpn(int i) {
        return vpn[i];
    }

    long gfn(int i) {
        return gfn[i];
    }

    long pfn(int i) {
        return pfn[i];
    }

    int bits(int i) {
        return bits[i];
    }

    byte[] page(int i) {
        return page[i];
    }

    long epoch(int i) {
        return epoch[i];
    }

    int pathLen(int i) {
        return pathLen[i];
    }

    long pathGpa(int i, int k) {
        return pathGpa[i * 4 + k];
    }

    long pathPte(int i, int k) {
        return pathPte[i * 4 + k];
    }

    int pteSize(int i) {
        return pteSize[i];
    }
}
