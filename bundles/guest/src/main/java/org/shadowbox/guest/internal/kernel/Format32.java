package org.shadowbox.guest.internal.kernel;

import org.shadowbox.vm.Register;

/**
 * 32-bit paging as 32-bit Linux without PAE lays it out: 1024 4-byte entries per table, a
 * 3G/1G split, the kernel's page-directory entries (768-1023) copied into every pgd, 4 MiB
 * direct-map pages (CR4.PSE), no NX.
 */
final class Format32 extends PageTableFormat {
    @Override
    public String name() {
        return "32";
    }

    @Override
    public int levels() {
        return 2;
    }

    @Override
    public int entrySize() {
        return 4;
    }

    @Override
    public int entries(int level) {
        return 1024;
    }

    @Override
    public int shift(int level) {
        return 12 + 10 * (level - 1);
    }

    @Override
    public long userTop() {
        return 0xc000_0000L;
    }

    @Override
    public long directMapBase() {
        return 0xc000_0000L;
    }

    @Override
    public long directMapLimit() {
        return 896L << 20;
    }

    @Override
    public int kernelPgdIndex() {
        return 768;
    }

    @Override
    public boolean hasNx() {
        return false;
    }

    @Override
    public long frame(long entry) {
        return (entry & 0xffff_f000L) >>> 12;
    }

    @Override
    public long cr4() {
        return Register.CR4_PSE;
    }

    @Override
    public long efer() {
        return 0;
    }

    @Override
    public long textBase() {
        return 0x0804_8000L;
    }

    @Override
    public long mmapBase() {
        return 0xb000_0000L;
    }

    @Override
    public long stackTop() {
        return 0xbfff_f000L;
    }
}
