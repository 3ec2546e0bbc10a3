package org.shadowbox.mmu.internal.paging;

import org.shadowbox.vm.Register;

/**
 * 32-bit paging: a PDE (PS with CR4.PSE: a 4 MiB page, PSE-36 addressing) and a PTE,
 * 4-byte entries, 1024 per table, no NX.
 */
final class Paging32 extends PagingMode {
    @Override
    public String name() {
        return "32";
    }

    @Override
    public int rootLevel() {
        return 2;
    }

    @Override
    public int pteSize() {
        return 4;
    }

    @Override
    public boolean pae() {
        return false;
    }

    @Override
    public long rootTable(long cr3) {
        return cr3 & 0xffff_f000L;
    }

    @Override
    public int index(long gva, int level) {
        return (int) ((gva >>> (12 + 10 * (level - 1))) & 1023);
    }

    @Override
    public boolean isLeaf(long pte, int level, long cr4) {
        return level == 1 || (pte & Pte.PS) != 0 && (cr4 & Register.CR4_PSE) != 0;
    }

    @Override
    public long reservedBitsSet(long pte, int level, boolean leaf, int maxPhyAddr, boolean nxe) {
        if (level == 2 && leaf) {
            // PSE-36: bits 20:13 carry physical bits 39:32; bit 21 and the bits above
            // MAXPHYADDR among them are reserved.
            int high = Math.min(maxPhyAddr, 40) - 32; // physical bits available above 4 GiB
            return pte & (Pte.bits(21, 21) | Pte.bits(13 + high, 20));
        }
        return 0;
    }

    @Override
    public long tableAddress(long pte, int level) {
        return pte & 0xffff_f000L;
    }

    @Override
    public long leafAddress(long pte, int level, long gva) {
        if (level == 2) {
            long high = (pte >>> 13) & 0xff; // PSE-36: physical bits 39:32
            return (high << 32) | (pte & 0xffc0_0000L) | (gva & 0x3f_ffffL);
        }
        return (pte & 0xffff_f000L) | (gva & 0xfff);
    }

    @Override
    public boolean hasNx() {
        return false;
    }
}
