package org.shadowbox.guest.internal.kernel;

import org.shadowbox.vm.Register;

/**
 * PAE paging as 32-bit Linux with {@code CONFIG_X86_PAE} lays it out: a 3G/1G split, the four
 * PMD tables allocated with the pgd ({@code PREALLOCATED_PMDS}: PDPTEs are loaded at CR3 write,
 * so they never change while the pgd lives), the kernel PMD shared, 2 MiB direct-map pages.
 * A PTE is stored as two 4-byte writes, high half first, and cleared low half first
 * ({@code native_set_pte}, {@code native_pte_clear}): the case KVM widens to 8 bytes.
 */
final class FormatPae extends PageTableFormat {
    @Override
    public String name() {
        return "pae";
    }

    @Override
    public int levels() {
        return 3;
    }

    @Override
    public int entrySize() {
        return 8;
    }

    @Override
    public int entries(int level) {
        return level == 3 ? 4 : 512;
    }

    @Override
    public int shift(int level) {
        return level == 3 ? 30 : 12 + 9 * (level - 1);
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
        return 3;
    }

    @Override
    public boolean preallocated(int level) {
        return level == 2;
    }

    @Override
    public long tableEntry(long gfn, int level, boolean user) {
        return level == 3 ? (gfn << 12) | P : super.tableEntry(gfn, level, user);
    }

    @Override
    public long cr4() {
        return Register.CR4_PAE;
    }

    @Override
    public long efer() {
        return Register.EFER_NXE;
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

    @Override
    void set(KernelMemory km, int cpu, long gpa, int level, long value) {
        if (level == 1) {
            km.write(cpu, gpa + 4, value >>> 32, 4);
            km.write(cpu, gpa, value & 0xffff_ffffL, 4);
        } else {
            km.write(cpu, gpa, value, 8);
        }
    }

    @Override
    void clear(KernelMemory km, int cpu, long gpa, int level) {
        if (level == 1) {
            km.write(cpu, gpa, 0, 4);
            km.write(cpu, gpa + 4, 0, 4);
        } else {
            km.write(cpu, gpa, 0, 8);
        }
    }
}
