package org.shadowbox.guest.internal.kernel;

import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmException;

/**
 * The guest kernel's view of one paging mode: table geometry, entry encoding, the address
 * layout, the register values that turn the mode on, and how an entry is stored (Linux's
 * {@code pgtable-2level.h}, {@code pgtable-3level.h} and {@code pgtable_64.h}). One strategy
 * object per mode, so the table-editing code ({@link PageTables}) has no mode switch in it.
 */
public abstract class PageTableFormat {
    public static final long P = 1, RW = 1 << 1, US = 1 << 2, A = 1 << 5, D = 1 << 6, PS = 1 << 7;
    public static final long NX = 1L << 63;
    /** CR0 of a paging kernel: PG, WP, ET, PE. */
    static final long CR0_PAGING = Register.CR0_PG | Register.CR0_WP | 0x10L | Register.CR0_PE;
    /** CR0 with paging off (protected mode, ET). */
    static final long CR0_NO_PAGING = 0x10L | Register.CR0_PE;

    /** The format for the VM option {@code paging}: "64" (or "off"), "pae", "32". */
    public static PageTableFormat of(String paging) {
        return switch (paging) {
            case "64", "off" -> new Format64();
            case "pae" -> new FormatPae();
            case "32" -> new Format32();
            default -> throw new VmException("bad paging '" + paging + "': accepted 64, pae, 32");
        };
    }

    public abstract String name();

    /** Levels of the walk: 4, 3 or 2 (the top one is the pgd). */
    public abstract int levels();

    /** Bytes per entry: 8 or 4. */
    public abstract int entrySize();

    /** Entries in a table of {@code level}. */
    public abstract int entries(int level);

    /** The lowest address bit translated by an entry of {@code level} (12 for a PTE). */
    public abstract int shift(int level);

    public final int index(long va, int level) {
        return (int) ((va >>> shift(level)) & (entries(level) - 1));
    }

    /** The end of the user half (exclusive). */
    public abstract long userTop();

    /** Where the kernel's direct map of guest RAM begins. */
    public abstract long directMapBase();

    /** How much RAM the direct map can hold (the rest is not used by this kernel). */
    public abstract long directMapLimit();

    /** First pgd index of the kernel half (shared by every address space). */
    public abstract int kernelPgdIndex();

    /** Whether the pgd's tables at {@code level} are allocated with it and never freed alone (PAE PMDs). */
    public boolean preallocated(int level) {
        return false;
    }

    /** An entry of {@code level} pointing at table {@code gfn}; user tables carry U/S. */
    public long tableEntry(long gfn, int level, boolean user) {
        return (gfn << 12) | P | RW | A | (user ? US : 0);
    }

    /** A 4 KiB leaf. */
    public long leaf(long gfn, boolean write, boolean user, boolean exec, boolean dirty) {
        return (gfn << 12) | P | A | (write ? RW : 0) | (user ? US : 0) | (dirty ? D : 0) | (exec || !hasNx() ? 0 : NX);
    }

    /** A large kernel leaf at level 2 (2 MiB, or 4 MiB for 32-bit): supervisor, writable, not executable. */
    public long largeLeaf(long gfn) {
        return (gfn << 12) | P | RW | A | D | PS | (hasNx() ? NX : 0);
    }

    public boolean hasNx() {
        return true;
    }

    /** The frame an entry names. */
    public long frame(long entry) {
        return (entry & 0x000f_ffff_ffff_f000L) >>> 12;
    }

    public static boolean present(long entry) {
        return (entry & P) != 0;
    }

    public static boolean writable(long entry) {
        return (entry & RW) != 0;
    }

    public abstract long cr4();

    public abstract long efer();

    public long cr3(long pgdGfn) {
        return pgdGfn << 12;
    }

    /** Where a process's text is loaded. */
    public abstract long textBase();

    /** Below this the mmap area grows down. */
    public abstract long mmapBase();

    /** The top of the user stack. */
    public abstract long stackTop();

    /** {@code set_pte}/{@code set_pmd}: stores {@code value} into the entry at {@code gpa}. */
    void set(KernelMemory km, int cpu, long gpa, int level, long value) {
        km.write(cpu, gpa, value, entrySize());
    }

    /** {@code pte_clear}/{@code pmd_clear}. */
    void clear(KernelMemory km, int cpu, long gpa, int level) {
        km.write(cpu, gpa, 0, entrySize());
    }

    @Override
    public String toString() {
        return name();
    }
}
