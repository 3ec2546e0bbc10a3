package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.shadowbox.shell.internal.Views.MmuMapped;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * {@code mmu:map}: adds one mapping to a guest's 4-level page tables, rooted at a vCPU's CR3,
 * with host-side writes (what a loader or a test harness does to guest RAM: no page-track
 * notifier hears of it and no emulation happens).
 *
 * <p>It only ever turns not-present entries into present ones: an address that is already
 * mapped (or lies under a large page) is refused. That is what keeps host-side writes honest
 * while an MMU shadows the same tables: a shadow page never holds a present spte for a
 * not-present guest entry, and a TLB never caches one, so nothing goes stale; the next access
 * faults and the MMU reads the new entry. Changing or removing a mapping is the guest's
 * business: {@code mmu:access ... write} to the entry's address, through the MMU.
 *
 * <p>Missing tables come from an area of guest frames the user names: a frame is free when it
 * is all zeros, is not the root and no present non-leaf entry reachable from CR3 points at it.
 * Intermediate entries get P, R/W and U/S (the leaf decides the rights, as operating systems
 * do). Everything is checked before the first write, so a refused mapping writes nothing.
 */
final class PageTableBuilder {
    static final long P = 1L;
    static final long RW = 1L << 1;
    static final long US = 1L << 2;
    static final long PS = 1L << 7;
    static final long NX = 1L << 63;
    /** Bits 12-51: a frame address in an entry. */
    static final long ADDR = ((1L << 52) - 1) & ~0xfffL;

    private final Vm vm;
    private final Vcpu cpu;
    private final GuestMemory mem;

    PageTableBuilder(Vm vm, Vcpu cpu) {
        this.vm = vm;
        this.cpu = cpu;
        this.mem = vm.memory();
    }

    /** {@code --page}: 4K, 2M or 1G, as the level of the leaf (1, 2 or 3). */
    static int pageLevel(String text) {
        String s = text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
        switch (s) {
            case "4K": return 1;
            case "2M": return 2;
            case "1G": return 3;
            default: throw new VmException("bad --page '" + (text == null ? "" : text.trim())
                    + "': accepted 4K, 2M or 1G");
        }
    }

    static int index(long gva, int level) {
        return (int) ((gva >>> (12 + 9 * (level - 1))) & 511);
    }

    MmuMapped map(long gva, long gpa, int leafLevel, boolean user, boolean writable, boolean nx, String tablesText,
            String tablePagesText) {
        long pageSize = 1L << (12 + 9 * (leafLevel - 1));
        if ((gva >> 47) != 0 && (gva >> 47) != -1) {
            throw new VmException("bad GVA 0x" + Long.toHexString(gva)
                    + ": not canonical (bits 63-47 must all equal bit 47)");
        }
        if ((gva & (pageSize - 1)) != 0 || (gpa & (pageSize - 1)) != 0) {
            throw new VmException("GVA 0x" + Long.toHexString(gva) + " and GPA 0x" + Long.toHexString(gpa)
                    + " must be aligned to the page size 0x" + Long.toHexString(pageSize));
        }
        if ((gpa >>> 12) >= vm.gfnLimit()) {
            throw new VmException("bad GPA 0x" + Long.toHexString(gpa) + ": above MAXPHYADDR (" + vm.maxPhyAddr()
                    + " bits) of VM " + vm.name());
        }
        long cr3 = cpu.get(Register.CR3);
        long root = cr3 & ADDR;
        requireWritable(root >>> 12, "the top table (CR3 0x" + Long.toHexString(cr3) + " of vCPU " + cpu.id() + ")");

        // Walk down to the leaf's table, noting where tables are missing; nothing is written yet.
        long table = root;
        int level = 4;
        for (; level > leafLevel; level--) {
            long entryGpa = table + 8L * index(gva, level);
            long e = mem.read(entryGpa, 8);
            if ((e & P) == 0) {
                break;
            }
            if (level <= 3 && (e & PS) != 0) {
                throw alreadyMapped(gva, level, entryGpa, e);
            }
            table = e & ADDR;
        }
        if (level == leafLevel) {
            long entryGpa = table + 8L * index(gva, level);
            long e = mem.read(entryGpa, 8);
            if ((e & P) != 0) {
                throw alreadyMapped(gva, level, entryGpa, e);
            }
        }
        int missing = level - leafLevel; // tables to create below `table`
        long[] fresh = freeTables(missing, tablesText, tablePagesText, root);

        // Bottom-up: fill the new tables first, link the path last, so no walk sees half a path.
        long leaf = (gpa & ADDR) | P | (writable ? RW : 0) | (user ? US : 0) | (nx ? NX : 0)
                | (leafLevel > 1 ? PS : 0);
        long entry = leaf;
        long leafEntryGpa = 0;
        for (int l = leafLevel, i = missing - 1; l <= level; l++, i--) {
            long t = l == level ? table : fresh[i] << 12;
            long entryGpa = t + 8L * index(gva, l);
            if (l == leafLevel) {
                leafEntryGpa = entryGpa;
            }
            mem.write(entryGpa, entry, 8);
            entry = t | P | RW | US;
        }
        List<String> created = new ArrayList<>();
        for (int i = 0; i < missing; i++) {
            created.add("0x" + Long.toHexString(fresh[i]) + " (level " + (level - 1 - i) + ")");
        }
        return new MmuMapped(vm.name(), cpu.id(), gva, gpa, pageSize, cr3, leafEntryGpa, leaf, bits(leaf), created);
    }

    private static VmException alreadyMapped(long gva, int level, long entryGpa, long e) {
        return new VmException("gva 0x" + Long.toHexString(gva) + " is already mapped: the level-" + level
                + " entry at gpa 0x" + Long.toHexString(entryGpa) + " is 0x" + Long.toHexString(e) + " (" + bits(e)
                + "); mmu:map only adds mappings (change one with a guest write: mmu:access ... write)");
    }

    /**
     * {@code n} free table frames from the area, top level first. A frame is free when it is in a
     * writable memslot, all zeros, not the root, and no reachable non-leaf entry points at it.
     */
    private long[] freeTables(int n, String tablesText, String tablePagesText, long root) {
        if (n == 0) {
            return new long[0];
        }
        if (tablesText == null || tablesText.isBlank()) {
            throw new VmException("mmu:map needs " + n + " new page table" + (n == 1 ? "" : "s")
                    + ": name an area of free guest frames with --tables GFN (and --table-pages N, default 64)");
        }
        long first = Numbers.address("--tables", tablesText);
        int count = Numbers.integer("--table-pages", tablePagesText, 1, 1 << 20);
        Set<Long> used = reachableTables(root);
        long[] out = new long[n];
        int found = 0;
        byte[] page = new byte[4096];
        for (long gfn = first; gfn < first + count && found < n; gfn++) {
            Memslot s = vm.slotForGfn(gfn);
            if (s == null || s.readonly() || gfn == (root >>> 12) || used.contains(gfn)) {
                continue;
            }
            mem.read(gfn << 12, page, 0, page.length);
            if (allZero(page)) {
                out[found++] = gfn;
            }
        }
        if (found < n) {
            throw new VmException("mmu:map needs " + n + " new page table" + (n == 1 ? "" : "s") + " but found "
                    + found + " free in --tables 0x" + Long.toHexString(first) + " (" + count
                    + " pages): free means in a writable memslot, all zeros, and not in use as a table");
        }
        return out;
    }

    /** The gfns of every table reachable from the root (PDPTs, PDs and PTs; the root itself too). */
    private Set<Long> reachableTables(long root) {
        Set<Long> out = new HashSet<>();
        collect(root >>> 12, 4, out);
        return out;
    }

    private void collect(long gfn, int level, Set<Long> out) {
        if (!out.add(gfn) || level == 1 || vm.slotForGfn(gfn) == null) {
            return;
        }
        for (int i = 0; i < 512; i++) {
            long e = mem.read((gfn << 12) + 8L * i, 8);
            if ((e & P) != 0 && !(level <= 3 && (e & PS) != 0)) {
                collect((e & ADDR) >>> 12, level - 1, out);
            }
        }
    }

    private void requireWritable(long gfn, String what) {
        Memslot s = vm.slotForGfn(gfn);
        if (s == null || s.readonly()) {
            throw new VmException(what + " is at gfn 0x" + Long.toHexString(gfn) + ", which is in no writable memslot"
                    + " of VM " + vm.name() + ": point CR3 at RAM first (cpu:set " + vm.name() + " " + cpu.id()
                    + " cr3 GPA)");
        }
    }

    private static boolean allZero(byte[] page) {
        for (byte b : page) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** An entry's bits by name: P|RW|US|PS|NX. */
    static String bits(long e) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"P", "RW", "US", "PWT", "PCD", "A", "D", "PS"};
        for (int i = 0; i < names.length; i++) {
            if ((e & (1L << i)) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(names[i]);
            }
        }
        if ((e & NX) != 0) {
            sb.append(sb.length() == 0 ? "" : "|").append("NX");
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }
}
