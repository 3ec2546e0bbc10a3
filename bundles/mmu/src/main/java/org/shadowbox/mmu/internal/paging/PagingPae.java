package org.shadowbox.mmu.internal.paging;

/**
 * PAE paging: CR3 names a 32-byte PDPT of 4 PDPTEs (level 3, chosen by va 31:30), then
 * PDEs (PS: 2 MiB) and PTEs of 8 bytes.
 *
 * <p>Hardware loads the PDPTEs when CR3 is written and a bad one makes the CR3 write
 * fail with #GP; KVM keeps them in {@code pdptrs[]}. The reference walk reads the PDPTE at
 * walk time and reports a bad one as a page fault: a documented simplification that keeps
 * the walker stateless. The shadow MMU passes the PDPTEs it loaded at the last CR3 write
 * instead ({@code GuestWalker.walk(..., pdptrs)}), as KVM's walker does; the two agree as long
 * as the guest writes CR3 after changing a PDPTE, as a PAE OS must.
 */
final class PagingPae extends PagingMode {
    @Override
    public String name() {
        return "pae";
    }

    @Override
    public int rootLevel() {
        return 3;
    }

    @Override
    public int pteSize() {
        return 8;
    }

    @Override
    public boolean pae() {
        return true;
    }

    @Override
    public long rootTable(long cr3) {
        return cr3 & 0xffff_ffe0L;
    }

    @Override
    public int index(long gva, int level) {
        return level == 3 ? (int) ((gva >>> 30) & 3) : (int) ((gva >>> (12 + 9 * (level - 1))) & 511);
    }

    @Override
    public boolean isLeaf(long pte, int level, long cr4) {
        return level == 1 || (level == 2 && (pte & Pte.PS) != 0);
    }

    @Override
    public long reservedBitsSet(long pte, int level, boolean leaf, int maxPhyAddr, boolean nxe) {
        long rsvd = Pte.bits(maxPhyAddr, 62);
        if (level == 3) {
            // A PDPTE has no rights, no A/D, no PS, and no NX.
            rsvd |= Pte.RW | Pte.US | Pte.bits(5, 8) | Pte.NX;
        } else {
            if (!nxe) {
                rsvd |= Pte.NX;
            }
            if (leaf && level == 2) {
                rsvd |= Pte.bits(13, 20);
            }
        }
        return pte & rsvd;
    }

    @Override
    public boolean hasRights(int level) {
        return level != 3;
    }

    @Override
    public long tableAddress(long pte, int level) {
        return pte & Pte.bits(12, 51);
    }

    @Override
    public long leafAddress(long pte, int level, long gva) {
        long pageMask = (1L << (12 + 9 * (level - 1))) - 1;
        return (pte & Pte.bits(12, 51) & ~pageMask) | (gva & pageMask);
    }
}
