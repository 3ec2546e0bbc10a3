package org.shadowbox.mmu.internal.paging;

import org.shadowbox.vm.Register;

/**
 * One guest paging mode: the geometry and the reserved-bit rules of its entries.
 * KVM generates these from {@code paging_tmpl.h} with {@code PTTYPE} 64, PAE-as-64
 * and 32; Shadowbox keeps one strategy object per mode instead.
 */
public abstract class PagingMode {
    /** 4-level paging (IA-32e), 8-byte entries, 2 MiB and 1 GiB pages. */
    public static final PagingMode LONG = new Paging64();
    /** PAE paging: 4 PDPTEs, then 2 levels of 8-byte entries, 2 MiB pages. */
    public static final PagingMode PAE = new PagingPae();
    /** 32-bit paging: 2 levels of 4-byte entries, 4 MiB pages with CR4.PSE. */
    public static final PagingMode BITS32 = new Paging32();

    /** The mode the registers select, or null when CR0.PG is clear (no paging). */
    public static PagingMode of(long cr0, long cr4, long efer) {
        if ((cr0 & Register.CR0_PG) == 0) {
            return null;
        }
        if ((efer & Register.EFER_LMA) != 0) {
            return LONG;
        }
        return (cr4 & Register.CR4_PAE) != 0 ? PAE : BITS32;
    }

    /** "64", "pae" or "32": the {@code --paging} names. */
    public abstract String name();

    /** Levels walked: 4, 3 (the PDPTE counts as one) or 2. */
    public abstract int rootLevel();

    /** Bytes per entry: 8 or 4. */
    public abstract int pteSize();

    /** Whether CR4.PAE is set in this mode (KVM's role.cr4_pae). */
    public abstract boolean pae();

    /** Guest-physical address of the top table from CR3. */
    public abstract long rootTable(long cr3);

    /** The linear address the walk translates (32-bit modes drop the high half). */
    public long truncate(long gva) {
        return gva & 0xffff_ffffL;
    }

    /** True if {@code gva} may be translated at all (64-bit: canonical). */
    public boolean canonical(long gva) {
        return true;
    }

    /** Index of the entry for {@code gva} in a table of {@code level}. */
    public abstract int index(long gva, int level);

    /** True if the entry at {@code level} maps a page (PS set where the mode allows it). */
    public abstract boolean isLeaf(long pte, int level, long cr4);

    /**
     * Reserved bits that are set in {@code pte}: non-zero means a RSVD fault
     * ({@code is_rsvd_bits_set}).
     */
    public abstract long reservedBitsSet(long pte, int level, boolean leaf, int maxPhyAddr, boolean nxe);

    /** Guest-physical address of the next table named by a non-leaf entry. */
    public abstract long tableAddress(long pte, int level);

    /** Guest-physical address {@code gva} translates to through leaf {@code pte} at {@code level}. */
    public abstract long leafAddress(long pte, int level, long gva);

    /** Whether entries at {@code level} carry U/S and R/W (a PAE PDPTE does not). */
    public boolean hasRights(int level) {
        return true;
    }

    /** Whether the mode has an NX bit at all (32-bit entries do not). */
    public boolean hasNx() {
        return true;
    }

    /** Bits 12 to {@code maxPhyAddr - 1}: a frame address in an 8-byte entry. */
    static long frameMask(int maxPhyAddr) {
        return Pte.bits(12, maxPhyAddr - 1);
    }

    @Override
    public String toString() {
        return name();
    }
}
