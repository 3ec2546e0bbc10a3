package org.shadowbox.mmu.internal.shadow;

import java.util.Random;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Vm;

/**
 * A PAE OS: the three address spaces' PDPTs are 32-byte blocks of one page (CR3 is not page
 * aligned); PDPTE 0 and 1 name user PDs (shared between address spaces now and then), PDPTE 2 the
 * kernel PD, PDPTE 3 the window's PD (firmware). PDs of 4 PDEs (PTs or 2 MiB pages) and, in the
 * kernel PD, a read-only 2 MiB page over the tables; PTs of 8 entries. A PDPTE change takes effect
 * at the next CR3 write, so the OS writes CR3 on every vCPU after one.
 */
final class GuestOsPae extends GuestOs {
    private static final long PDPTS = TABLES, WPD = 0x21a, WPT = 0x21b, KPD = 0x230;
    private static final long KERNEL = 2L << 30;
    private static final long WINDOW = 0xffe0_0000L; // PDPTE 3, PDE 511
    /** Kernel PDE 5: a read-only 2 MiB page over gfn 0x200-0x3ff, where the tables are. */
    private static final long TABLE_MAP = KERNEL | (5L << 21);

    GuestOsPae() {
        super(PagingMode.PAE);
        for (int a = 0; a < AS; a++) {
            for (int i = 0; i < 3; i++) {
                entries.add(cr3(a) + 8L * i);
            }
        }
        for (int p = 0; p < 7; p++) {
            for (int j = 0; j < 4; j++) {
                add(pd(p), j);
                for (int k = 0; k < 8; k++) {
                    add(pt(p, j), k);
                }
            }
        }
        add(KPD, 5);
    }

    private void add(long table, int index) {
        entries.add((table << 12) + 8L * index);
    }

    /** PD page {@code p}: 0-5 are the user PDs (AS p / 2, PDPTE p % 2), 6 is the kernel's. */
    private static long pd(int p) {
        return p < 6 ? 0x220 + p : KPD;
    }

    private static long pt(int p, int j) {
        return 0x240 + 4L * p + j;
    }

    @Override
    void firmware(Vm vm) {
        for (int a = 0; a < AS; a++) {
            vm.memory().write(cr3(a) + 8 * 3, (WPD << 12) | Pte.P, 8);
        }
        vm.memory().write((WPD << 12) + 8 * 511, (WPT << 12) | Pte.P | Pte.RW | Pte.A, 8);
        for (int i = 0; i < 0x60; i++) {
            vm.memory().write((WPT << 12) + 8L * i, ((TABLES + i) << 12) | Pte.P | Pte.RW | Pte.A | Pte.D, 8);
        }
    }

    @Override
    long cr3(int a) {
        return (PDPTS << 12) + 32L * a;
    }

    private static boolean isPdpte(long gpa) {
        return gpa >>> 12 == PDPTS;
    }

    @Override
    boolean needsCr3Reload(long gpa) {
        return isPdpte(gpa);
    }

    @Override
    long newValue(Random rnd, long gpa) {
        long table = gpa >>> 12;
        int index = (int) ((gpa & 4095) / 8);
        if (rnd.nextInt(10) == 0) {
            return 0; // tear down
        }
        if (isPdpte(gpa)) {
            int a = (int) ((gpa & 4095) / 32);
            int i = index % 4;
            long pd = i == 2 ? KPD : pd(2 * (rnd.nextInt(3) == 0 ? rnd.nextInt(AS) : a) + i);
            long f = rnd.nextInt(40) > 0 ? Pte.P : 0;
            int odd = rnd.nextInt(60);
            f |= odd == 0 ? Pte.RW : odd == 1 ? 1L << 51 : odd == 2 ? Pte.PCD | Pte.PWT : 0; // RW and bit 51 are reserved
            return (pd << 12) | f;
        }
        if (table == KPD && index == 5) {
            return (TABLES << 12) | Pte.PS | (flags(rnd, false, true) & ~Pte.RW); // stays read-only
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
        if (isPdpte(gpa)) {
            return (long) (index % 4) << 30;
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
        } else if (region < 83) {
            gva = TABLE_MAP | ((long) rnd.nextInt(0x200) << 12);
        } else if (region < 93) {
            gva = WINDOW + ((long) rnd.nextInt(0x60) << 12);
        } else if (region < 95) {
            gva = (1L << 32) | ((long) rnd.nextInt(2) << 30) | ((long) rnd.nextInt(8) << 12); // bits 63:32 dropped
        } else {
            gva = (long) rnd.nextInt(1 << 20) << 12; // mostly unmapped
        }
        return gva | offset(rnd, 8);
    }

    @Override
    boolean writeForbidden(long gva) {
        long linear = gva & 0xffff_ffffL;
        return linear >= WINDOW || (linear >= TABLE_MAP && linear < TABLE_MAP + (2L << 20));
    }
}
