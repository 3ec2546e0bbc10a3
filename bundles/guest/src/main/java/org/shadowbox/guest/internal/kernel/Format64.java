package org.shadowbox.guest.internal.kernel;

import org.shadowbox.vm.Register;

/**
 * 4-level paging as x86-64 Linux lays it out: user half below 2^47, the direct map at
 * {@code 0xffff888000000000} (PML4 slot 273) with 2 MiB pages, the kernel half (PML4 256-511)
 * shared by copying its entries into every pgd ({@code pgd_ctor}).
 */
final class Format64 extends PageTableFormat {
    @Override
    public String name() {
        return "64";
    }

    @Override
    public int levels() {
        return 4;
    }

    @Override
    public int entrySize() {
        return 8;
    }

    @Override
    public int entries(int level) {
        return 512;
    }

    @Override
    public int shift(int level) {
        return 12 + 9 * (level - 1);
    }

    @Override
    public long userTop() {
        return 1L << 47;
    }

    @Override
    public long directMapBase() {
        return 0xffff_8880_0000_0000L;
    }

    @Override
    public long directMapLimit() {
        return 1L << 40;
    }

    @Override
    public int kernelPgdIndex() {
        return 256;
    }

    @Override
    public long cr4() {
        return Register.CR4_PAE;
    }

    @Override
    public long efer() {
        return Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE;
    }

    @Override
    public long textBase() {
        return 0x40_0000L;
    }

    @Override
    public long mmapBase() {
        return 0x7f00_0000_0000L;
    }

    @Override
    public long stackTop() {
        return 0x7ffe_0000_0000L;
    }
}
