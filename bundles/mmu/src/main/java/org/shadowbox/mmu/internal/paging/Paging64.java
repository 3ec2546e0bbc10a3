package org.shadowbox.mmu.internal.paging;

/** 4-level paging: PML4E, PDPTE (PS: 1 GiB), PDE (PS: 2 MiB), PTE. */
final class Paging64 extends PagingMode {
    @Override
    public String name() {
        return "64";
    }

    @Override
    public int rootLevel() {
        return 4;
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
        return cr3 & Pte.bits(12, 51);
    }

    @Override
    public long truncate(long gva) {
        return gva;
    }

    @Override
    public boolean canonical(long gva) {
        return (gva >> 47) == 0 || (gva >> 47) == -1;
    }

    @Override
    public int index(long gva, int level) {
        return (int) ((gva >>> (12 + 9 * (level - 1))) & 511);
    }

    @Override
    public boolean isLeaf(long pte, int level, long cr4) {
        return level == 1 || ((level == 2 || level == 3) && (pte & Pte.PS) != 0);
    }

    @Override
    public long reservedBitsSet(long pte, int level, boolean leaf, int maxPhyAddr, boolean nxe) {
        long rsvd = Pte.bits(maxPhyAddr, 51);
        if (!nxe) {
            rsvd |= Pte.NX;
        }
        if (level == 4) {
            rsvd |= Pte.PS; // PS is reserved in a PML4E
        } else if (leaf && level == 3) {
            rsvd |= Pte.bits(13, 29); // a 1 GiB page: bits 29:13 above the PAT bit
        } else if (leaf && level == 2) {
            rsvd |= Pte.bits(13, 20); // a 2 MiB page: bits 20:13 above the PAT bit
        }
        return pte & rsvd;
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
