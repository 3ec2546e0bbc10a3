package org.shadowbox.mmu.internal.shadow;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.vm.Vm;

/**
 * The page-table layout of the random guest OS that {@link DifferentialTest} runs, one per
 * paging mode: which entries the OS edits (by gpa), what it may put in them, the window (a
 * mapping of every table page, through which the OS writes its tables with guest writes), the
 * address spaces, and where the guest's accesses go. Tables live from gfn {@link #TABLES}, data
 * pages from {@link #DATA}; a few leaves point into the MMIO hole at gfn 0xa0-0xff.
 */
abstract class GuestOs {
    static final long TABLES = 0x200, DATA = 0x400, DATA_PAGES = 0x400;
    /** Address spaces (CR3 values) the OS switches between. */
    static final int AS = 3;

    final PagingMode mode;
    /** The gpa of every entry the OS edits. */
    final List<Long> entries = new ArrayList<>();

    GuestOs(PagingMode mode) {
        this.mode = mode;
    }

    static GuestOs of(PagingMode mode) {
        return mode == PagingMode.LONG ? new GuestOs64() : mode == PagingMode.PAE ? new GuestOsPae() : new GuestOs32();
    }

    /** Bytes per entry: 8, or 4 for 32-bit paging. */
    int entrySize() {
        return mode.pteSize();
    }

    /** Firmware: the window, written host-side, identically in both VMs. */
    abstract void firmware(Vm vm);

    /** CR3 of address space {@code a}. */
    abstract long cr3(int a);

    /** CR4 and EFER the OS runs with. */
    long cr4() {
        return ShadowRig.cr4(mode);
    }

    long efer() {
        return ShadowRig.efer(mode);
    }

    /** A new value the layout allows for the entry at {@code gpa}, with random rights. */
    abstract long newValue(Random rnd, long gpa);

    /** The first gva the entry at {@code gpa} translates (in the address space that owns it). */
    abstract long gvaOf(long gpa);

    /** The window address through which the OS writes the entry at {@code gpa}. */
    abstract long windowGva(long gpa);

    /** True if changing the entry needs a CR3 write to take effect (a PAE PDPTE). */
    boolean needsCr3Reload(long gpa) {
        return false;
    }

    /** A gva for a random access: mostly mapped regions, some holes and odd addresses. */
    abstract long randomGva(Random rnd);

    /** True if a write to {@code gva} could change a page table (the OS edits them only through changes). */
    abstract boolean writeForbidden(long gva);

    /** The gva of page {@code i} of the window that starts at {@code window}. */
    static long window(long window, long tableGfn) {
        return window + ((tableGfn - TABLES) << 12);
    }

    /** A random page offset: often near the end of the page, so that some accesses cross it. */
    static long offset(Random rnd, int align) {
        return rnd.nextInt(4) == 0 ? 4096 - 1 - rnd.nextInt(7) : rnd.nextInt(4096 / align) * (long) align;
    }

    /** A leaf's frame: mostly data pages, sometimes the MMIO hole. */
    static long leafGfn(Random rnd) {
        return rnd.nextInt(20) == 0 ? 0xa0 + rnd.nextInt(0x60) : DATA + rnd.nextInt((int) DATA_PAGES);
    }

    /**
     * Rights and status bits for a new entry; sometimes not present, sometimes a reserved bit.
     * Upper entries are mostly permissive, so that most walks reach a leaf.
     */
    static long flags(Random rnd, boolean upper, boolean nx) {
        long f = 0;
        if (rnd.nextInt(upper ? 40 : 20) > 0) {
            f |= Pte.P;
        }
        f |= rnd.nextInt(20) < (upper ? 18 : 15) ? Pte.RW : 0;
        f |= rnd.nextInt(20) < (upper ? 18 : 15) ? Pte.US : 0;
        f |= rnd.nextInt(10) < 7 ? Pte.A : 0;
        f |= rnd.nextInt(10) < 5 ? Pte.D : 0;
        f |= nx && rnd.nextInt(upper ? 20 : 10) < 2 ? Pte.NX : 0;
        f |= nx && rnd.nextInt(100) < 2 ? 1L << 51 : 0;
        return f;
    }
}
