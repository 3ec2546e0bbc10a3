package org.shadowbox.mmu.internal.shadow;

import java.util.Random;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Vm;

/**
 * A 64-bit OS: per address space a PML4 (entry 0: user PDPT, entry 1: the shared kernel PDPT,
 * entry 511: the window), a user PDPT with two PDs and a read-only 1 GiB page over the tables,
 * PDs of 4 PDEs (PTs or 2 MiB pages), PTs of 8 entries. Address spaces may share a PD at the
 * same index, so one shadow page is reached through paths of different rights.
 */
final class GuestOs64 extends GuestOs {
    private static final long KPDPT = 0x218, WPDPT = 0x219, WPD = 0x21a, WPT = 0x21b, KPD = 0x230;
    private static final long WINDOW = 0xffff_ff80_0000_0000L;
    private static final long KERNEL = 1L << 39;
    private static final long GIGA = 2L << 30; // user PDPT entry 2: a read-only 1 GiB page at gfn 0

    GuestOs64() {
        super(PagingMode.LONG);
        for (int a = 0; a < AS; a++) {
            add(pml4(a), 0);
            add(pml4(a), 1);
            for (int i = 0; i < 3; i++) {
                add(userPdpt(a), i);
            }
        }
        add(KPDPT, 0);
        for (int p = 0; p < 7; p++) {
            for (int j = 0; j < 4; j++) {
                add(pd(p), j);
                for (int k = 0; k < 8; k++) {
                    add(pt(p, j), k);
                }
            }
        }
    }

    private void add(long table, int index) {
        entries.add((table << 12) + 8L * index);
    }

    private static long pml4(int a) {
        return TABLES + a;
    }

    private static long userPdpt(int a) {
        return 0x210 + a;
    }

    /** PD page {@code p}: 0-5 are the user PDs (AS p / 2, PDPT entry p % 2), 6 is the kernel's. */
    private static long pd(int p) {
        return p < 6 ? 0x220 + p : KPD;
    }

    private static long pt(int p, int j) {
        return 0x240 + 4L * p + j;
    }

    @Override
    void firmware(Vm vm) {
        for (int a = 0; a < AS; a++) {
            vm.memory().write((pml4(a) << 12) + 8 * 511, (WPDPT << 12) | Pte.P | Pte.RW | Pte.A, 8);
        }
        vm.memory().write(WPDPT << 12, (WPD << 12) | Pte.P | Pte.RW | Pte.A, 8);
        vm.memory().write(WPD << 12, (WPT << 12) | Pte.P | Pte.RW | Pte.A, 8);
        for (int i = 0; i < 0x60; i++) {
            vm.memory().write((WPT << 12) + 8L * i, ((TABLES + i) << 12) | Pte.P | Pte.RW | Pte.A | Pte.D, 8);
        }
    }

    @Override
    long cr3(int a) {
        return pml4(a) << 12;
    }

    @Override
    long newValue(Random rnd, long gpa) {
        long table = gpa >>> 12;
        int index = (int) ((gpa & 4095) / 8);
        if (rnd.nextInt(10) == 0) {
            return 0; // tear down
        }
        if (table < TABLES + AS) {
            return ((index == 0 ? userPdpt((int) (table - TABLES)) : KPDPT) << 12) | flags(rnd, true, true) | Pte.P;
        }
        if (table >= 0x210 && table < 0x210 + AS) {
            int a = (int) (table - 0x210);
            if (index == 2) {
                return Pte.PS | (flags(rnd, false, true) & ~Pte.RW); // the 1 GiB page at gfn 0 stays read-only
            }
            int owner = rnd.nextInt(3) == 0 ? rnd.nextInt(AS) : a;
            return (pd(2 * owner + index) << 12) | flags(rnd, true, true);
        }
        if (table == KPDPT) {
            return (KPD << 12) | flags(rnd, true, true);
        }
        if (table >= 0x220 && table <= KPD) {
            int p = table == KPD ? 6 : (int) (table - 0x220);
            if (rnd.nextInt(5) == 0) {
                return ((DATA + 0x200L * rnd.nextInt(2)) << 12) | Pte.PS | flags(rnd, false, true);
            }
            return (pt(p, index) << 12) | flags(rnd, true, true);
        }
        return (leafGfn(rnd) << 12) | flags(rnd, false, true);
    }

    @Override
    long gvaOf(long gpa) {
        long table = gpa >>> 12;
        int index = (int) ((gpa & 4095) / 8);
        if (table < TABLES + AS) {
            return index == 0 ? 0 : KERNEL;
        }
        if (table >= 0x210 && table < 0x210 + AS) {
            return (long) index << 30;
        }
        if (table == KPDPT) {
            return KERNEL;
        }
        if (table >= 0x220 && table <= KPD) {
            int p = table == KPD ? 6 : (int) (table - 0x220);
            return (p == 6 ? KERNEL : (long) (p % 2) << 30) | ((long) index << 21);
        }
        long ptIndex = table - 0x240;
        int p = (int) (ptIndex / 4);
        int j = (int) (ptIndex % 4);
        return (p == 6 ? KERNEL : (long) (p % 2) << 30) | ((long) j << 21) | ((long) index << 12);
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
            gva = ((long) rnd.nextInt(2) << 30) | ((long) rnd.nextInt(4) << 21)
                    | ((long) (rnd.nextInt(4) == 0 ? rnd.nextInt(512) : rnd.nextInt(8)) << 12);
        } else if (region < 75) {
            gva = KERNEL | ((long) rnd.nextInt(4) << 21) | ((long) rnd.nextInt(8) << 12);
        } else if (region < 85) {
            gva = GIGA | ((long) rnd.nextInt(0x800) << 12);
        } else if (region < 95) {
            gva = WINDOW + ((long) rnd.nextInt(0x60) << 12);
        } else if (region < 97) {
            return 0x0000_8000_0000_0000L + rnd.nextInt(4096); // non-canonical
        } else {
            gva = (long) rnd.nextInt(1 << 20) << 12; // mostly unmapped
        }
        return gva | offset(rnd, 8);
    }

    @Override
    boolean writeForbidden(long gva) {
        // The 1 GiB page covers the tables too; with CR0.WP=0 the supervisor could write it.
        return Long.compareUnsigned(gva, WINDOW) >= 0 || (gva >= GIGA && gva < KERNEL);
    }
}
