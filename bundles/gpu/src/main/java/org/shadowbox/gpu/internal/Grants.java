package org.shadowbox.gpu.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.shadowbox.vm.VmException;

/**
 * The guest pages the driver has given to the GPU, and as what: a data page (buffers, command
 * buffers) or a page table of a given level. A guest GPU entry may point only at a page given
 * for exactly that use; anything else is a violation. Giving a page for one use excludes the
 * other, so a GPU can never map one of its own page tables as data and write it.
 */
final class Grants {
    /** The use of a data page; tables use their level, 1 to 4. */
    static final int DATA = 0;

    private final Map<Long, Integer> use = new HashMap<>();

    /** Gives {@code gfn} for {@code what} (DATA or a level); refused if it is given for another use. */
    void grant(long gfn, int what) {
        Integer old = use.get(gfn);
        if (old != null && old != what) {
            throw new VmException("gfn 0x" + Long.toHexString(gfn) + " is already given to the GPU as " + name(old)
                    + ": revoke it first, a page is a data page or a page table, not both");
        }
        use.put(gfn, what);
    }

    boolean revoke(long gfn) {
        return use.remove(gfn) != null;
    }

    boolean isData(long gfn) {
        Integer u = use.get(gfn);
        return u != null && u == DATA;
    }

    boolean isTable(long gfn, int level) {
        Integer u = use.get(gfn);
        return u != null && u == level;
    }

    /** Forgets every page in {@code [gfn, gfn + npages)}; returns how many there were. */
    int removeRange(long gfn, long npages) {
        int before = use.size();
        use.keySet().removeIf(g -> g >= gfn && g - gfn < npages);
        return before - use.size();
    }

    int size() {
        return use.size();
    }

    /** Given pages by gfn, for tools. */
    Map<Long, Integer> sorted() {
        return new TreeMap<>(use);
    }

    static String name(int what) {
        return what == DATA ? "a data page" : "a level-" + what + " page table";
    }
}
