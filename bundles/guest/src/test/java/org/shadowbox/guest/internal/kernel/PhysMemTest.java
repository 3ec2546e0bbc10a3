package org.shadowbox.guest.internal.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.VmException;

/**
 * The page allocator's deferred free list ({@code deferred_grow_zone}) against the list it
 * replaces, built whole at boot: every usable frame pushed from the top down, so the lowest is
 * on top, and each freed page pushed on top. Seeded random allocations and frees over several
 * memslot layouts (a reserved first 1 MiB, a read-only slot, a hole, slots out of order) must
 * hand out the same pages in the same order, with the same peak and free count, and run out at
 * the same point.
 */
class PhysMemTest {
    private static final long LIMIT = 1L << 40;

    private record Slot(long baseGfn, long npages, int flags) implements Memslot {
        @Override
        public int id() {
            return 0;
        }

        @Override
        public long hostFrame(long gfn) {
            return gfn;
        }

        @Override
        public long residentPages() {
            return 0;
        }

        @Override
        public long[] getDirtyLog() {
            return new long[0];
        }

        @Override
        public int lpageDisallowCount(long gfn, int level) {
            return 0;
        }
    }

    /** The allocator as it was: every usable frame on one stack at boot, the lowest on top. */
    private static ArrayDeque<Integer> wholeList(List<Memslot> slots) {
        long end = PhysMem.frames(slots, LIMIT);
        ArrayDeque<Integer> stack = new ArrayDeque<>();
        for (int i = slots.size() - 1; i >= 0; i--) {
            Memslot s = slots.get(i);
            if (s.readonly()) {
                continue;
            }
            for (long gfn = Math.min(s.endGfn(), end) - 1; gfn >= Math.max(s.baseGfn(), 0x100); gfn--) {
                stack.push((int) gfn);
            }
        }
        return stack;
    }

    private static final List<List<Memslot>> LAYOUTS = List.of(
            List.of(new Slot(0, 4096, 0)),
            List.of(new Slot(0, 0xa0, 0), new Slot(0xf0, 0x10, Memslot.READONLY), new Slot(0x100, 3000, 0)),
            List.of(new Slot(0x100, 500, 0), new Slot(0x1000, 700, 0), new Slot(0x800, 300, Memslot.READONLY)),
            List.of(new Slot(0x2000, 400, 0), new Slot(0x80, 600, 0)));

    @Test
    void deferredListHandsOutWhatTheWholeListDid() {
        for (int layout = 0; layout < LAYOUTS.size(); layout++) {
            for (long seed = 1; seed <= 20; seed++) {
                check(LAYOUTS.get(layout), layout, seed);
            }
        }
    }

    private static void check(List<Memslot> slots, int layout, long seed) {
        String where = "layout " + layout + ", seed " + seed;
        PhysMem phys = new PhysMem(slots, LIMIT, new Counters(1));
        ArrayDeque<Integer> ref = wholeList(slots);
        int total = ref.size();
        assertEquals(total, phys.totalPages(), where);
        List<Integer> held = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(seed);
        int peak = 0;
        for (int step = 0; step < 6 * total; step++) {
            boolean alloc = held.isEmpty() || (!ref.isEmpty() && rng.nextInt(100) < 55);
            if (alloc) {
                int want = ref.pop();
                long got = phys.alloc(PhysMem.ANON);
                assertEquals(want, got, where + ", step " + step + ": allocation");
                assertEquals(PhysMem.ANON, phys.use[(int) got], where);
                held.add(want);
                peak = Math.max(peak, held.size());
            } else {
                int g = held.remove(rng.nextInt(held.size()));
                phys.free(g);
                ref.push(g);
                assertEquals(PhysMem.FREE, phys.use[g], where);
            }
            assertEquals(ref.size(), phys.freePages(), where + ", step " + step + ": free pages");
        }
        assertEquals(peak, phys.peakPages(), where + ": peak");
        while (!ref.isEmpty()) {
            assertEquals((long) ref.pop(), phys.alloc(PhysMem.FILE), where + ": draining");
        }
        assertThrows(VmException.class, () -> phys.alloc(PhysMem.ANON), where + ": out of memory");
        for (int g = 0; g < phys.frames; g++) {
            boolean usable = false;
            for (Memslot s : slots) {
                usable |= !s.readonly() && s.contains(g) && g >= 0x100;
            }
            if (!usable) {
                assertEquals(PhysMem.RESERVED, phys.use[g], where + ": gfn " + g + " is not RAM above 1 MiB");
            }
        }
    }
}
