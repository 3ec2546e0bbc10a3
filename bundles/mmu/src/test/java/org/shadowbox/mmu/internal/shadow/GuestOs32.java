package org.shadowbox.mmu.internal.shadow;

import java.util.Random;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Vm;

/**
 * A 32-bit OS with 4 MiB pages (CR4.PSE): a PD per address space using PDEs in all four
 * quadrants of the directory (0, 1 and 0x100 for user code, 0x300-0x301 for the kernel, 0x302 a
 * read-only 4 MiB page over the tables, 0x3ff the window), PTs that use entries in both halves
 * (0-7 and 512-519, the two level-1 quadrants), and 4 MiB pages over the data. Address spaces may
 * share a user PT at the same PDE; the kernel PTs are shared by all.
 */
final class GuestOs32 extends GuestOs {
    private static final long WPT = 0x230;
    private static final int[] USER_PDES = {0, 1, 0x100};
    private static final int[] KERNEL_PDES = {0x300, 0x301};
    private static final int TABLE_MAP_PDE = 0x302;
    private static final long WINDOW = 0xffc0_0000L; // PDE 0x3ff
    private static final int[] PTES = {0, 1, 2, 3, 4, 5, 6, 7, 512, 513, 514, 515, 516, 517, 518, 519};

    GuestOs32() {
        super(PagingMode.BITS32);
        for (int a = 0; a < AS; a++) {
            for (int j : USER_PDES) {
                add(pd(a), j);
            }
            for (int j : KERNEL_PDES) {
                add(pd(a), j);
            }
            add(pd(a), TABLE_MAP_PDE);
        }
        for (long pt = 0x210; pt < 0x210 + 3 * AS + KERNEL_PDES.length; pt++) {
            for (int k : PTES) {
                add(pt, k);
            }
        }
    }

    private void add(long table, int index) {
        entries.add((table << 12) + 4L * index);
    }

    private static long pd(int a) {
        return TABLES + a;
    }

    /** The user PT of address space {@code a} for PDE slot {@code s} (an index into USER_PDES). */
    private static long userPt(int a, int s) {
        return 0x210 + 3L * a + s;
    }

    private static long kernelPt(int k) {
        return 0x210 + 3L * AS + k;
    }

    @Override
    void firmware(Vm vm) {
        for (int a = 0; a < AS; a++) {
            vm.memory().write((pd(a) << 12) + 4 * 0x3ff, (WPT << 12) | Pte.P | Pte.RW | Pte.A, 4);
        }
        for (int i = 0; i < 0x40; i++) {
            vm.memory().write((WPT << 12) + 4L * i, ((TABLES + i) << 12) | Pte.P | Pte.RW | Pte.A | Pte.D, 4);
        }
    }

    @Override
    long cr3(int a) {
        return pd(a) << 12;
    }

    private static int slotOf(int[] pdes, int index) {
        for (int s = 0; s < pdes.length; s++) {
            if (pdes[s] == index) {
                return s;
            }
        }
        return -1;
    }

    @Override
    long newValue(Random rnd, long gpa) {
        long table = gpa >>> 12;
        int index = (int) ((gpa & 4095) / 4);
        if (rnd.nextInt(10) == 0) {
            return 0; // tear down
        }
        if (table < TABLES + AS) {
            if (index == TABLE_MAP_PDE) {
                return Pte.PS | (flags(rnd, false, false) & ~Pte.RW); // 4 MiB at gfn 0-0x3ff, over the tables
            }
            if (rnd.nextInt(5) == 0) { // a 4 MiB page over the data; sometimes reserved bit 21 (PSE-36)
                return (DATA << 12) | Pte.PS | flags(rnd, false, false) | (rnd.nextInt(30) == 0 ? 1L << 21 : 0);
            }
            int user = slotOf(USER_PDES, index);
            if (user >= 0) {
                int a = (int) (table - TABLES);
                int owner = rnd.nextInt(3) == 0 ? rnd.nextInt(AS) : a;
                return (userPt(owner, user) << 12) | flags(rnd, true, false);
            }
            return (kernelPt(slotOf(KERNEL_PDES, index)) << 12) | flags(rnd, true, false);
        }
        // Now and then a device page at 0xfee00000 (MMIO): bit 31 set in a 4-byte gpte.
        long gfn = rnd.nextInt(40) == 0 ? 0xfee00 + rnd.nextInt(16) : leafGfn(rnd);
        return (gfn << 12) | flags(rnd, false, false);
    }

    @Override
    long gvaOf(long gpa) {
        long table = gpa >>> 12;
        int index = (int) ((gpa & 4095) / 4);
        if (table < TABLES + AS) {
            return (long) index << 22;
        }
        int n = (int) (table - 0x210);
        int pde = n < 3 * AS ? USER_PDES[n % 3] : KERNEL_PDES[n - 3 * AS];
        return ((long) pde << 22) | ((long) index << 12);
    }

    @Override
    long windowGva(long gpa) {
        return window(WINDOW, gpa >>> 12) + (gpa & 4095);
    }

    @Override
    long randomGva(Random rnd) {
        int region = rnd.nextInt(100);
        long gva;
        if (region < 55) {
            int pte = rnd.nextInt(4) == 0 ? rnd.nextInt(1024) : PTES[rnd.nextInt(PTES.length)];
            gva = ((long) USER_PDES[rnd.nextInt(USER_PDES.length)] << 22) | ((long) pte << 12);
        } else if (region < 75) {
            gva = ((long) KERNEL_PDES[rnd.nextInt(KERNEL_PDES.length)] << 22)
                    | ((long) PTES[rnd.nextInt(PTES.length)] << 12);
        } else if (region < 83) {
            gva = ((long) TABLE_MAP_PDE << 22) | ((long) rnd.nextInt(0x400) << 12);
        } else if (region < 93) {
            gva = WINDOW + ((long) rnd.nextInt(0x40) << 12);
        } else if (region < 95) {
            gva = (1L << 32) | ((long) USER_PDES[rnd.nextInt(2)] << 22) | ((long) rnd.nextInt(8) << 12);
        } else {
            gva = (long) rnd.nextInt(1 << 20) << 12; // mostly unmapped
        }
        return gva | offset(rnd, 4);
    }

    @Override
    boolean writeForbidden(long gva) {
        long linear = gva & 0xffff_ffffL;
        long tableMap = (long) TABLE_MAP_PDE << 22;
        return linear >= WINDOW || (linear >= tableMap && linear < tableMap + (4L << 20));
    }
}
