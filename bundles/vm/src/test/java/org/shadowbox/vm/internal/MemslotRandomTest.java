package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * Seeded random sequences of memslot changes and guest memory accesses, checked after
 * every step against a plain model: slots as (base, npages, flags, bytes by offset).
 * The seed is in every failure message; replay one with -Dshadowbox.seed=N.
 */
class MemslotRandomTest {
    private static final long SPACE_PAGES = 96; // a small guest physical space so slots collide
    private static final int STEPS = 3_000;

    /** The model: what a slot is, with its memory as a sparse byte map. */
    static final class ModelSlot {
        long base;
        final long npages;
        final int flags;
        final Map<Long, Byte> bytes = new HashMap<>();

        ModelSlot(long base, long npages, int flags) {
            this.base = base;
            this.npages = npages;
            this.flags = flags;
        }
    }

    static List<Long> seeds() {
        String fixed = System.getProperty("shadowbox.seed");
        if (fixed != null) {
            return List.of(Long.decode(fixed));
        }
        List<Long> seeds = new ArrayList<>();
        for (long s = 1; s <= 12; s++) {
            seeds.add(s * 0x9e3779b97f4a7c15L);
        }
        return seeds;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void slotsAndMemoryMatchTheModel(long seed) {
        Random rnd = new Random(seed);
        HypervisorImpl hv = new HypervisorImpl();
        Vm vm = hv.createVm(new VmSpec("r", 2, List.of(), 33)); // MAXPHYADDR 33: gfns below 2^21
        long gfnLimit = vm.gfnLimit();
        TreeMap<Integer, ModelSlot> model = new TreeMap<>();
        for (int step = 0; step < STEPS; step++) {
            String ctx = "seed " + seed + " step " + step + ": ";
            int op = rnd.nextInt(10);
            if (op == 0) {
                int id = rnd.nextInt(6);
                long base = rnd.nextInt(10) == 0 ? gfnLimit - rnd.nextInt(4) : rnd.nextInt((int) SPACE_PAGES);
                long npages = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(24);
                int flags = rnd.nextInt(4) == 0 ? Memslot.READONLY : 0;
                boolean ok = !model.containsKey(id) && npages > 0 && base + npages <= gfnLimit
                        && overlap(model, base, npages, -1) == null;
                boolean done = attempt(() -> vm.createSlot(new SlotSpec(id, base, npages, flags)));
                assertEquals(ok, done, ctx + "create " + id + " at " + base + "+" + npages);
                if (ok) {
                    model.put(id, new ModelSlot(base, npages, flags));
                }
            } else if (op == 1) {
                int id = rnd.nextInt(6);
                boolean ok = model.containsKey(id);
                assertEquals(ok, attempt(() -> vm.deleteSlot(id)), ctx + "delete " + id);
                model.remove(id);
            } else if (op == 2) {
                int id = rnd.nextInt(6);
                long base = rnd.nextInt((int) SPACE_PAGES);
                ModelSlot m = model.get(id);
                boolean ok = m != null && base + m.npages <= gfnLimit && overlap(model, base, m.npages, id) == null;
                assertEquals(ok, attempt(() -> vm.moveSlot(id, base)), ctx + "move " + id + " to " + base);
                if (ok) {
                    m.base = base;
                }
            } else {
                long gpa = (long) (rnd.nextDouble() * (SPACE_PAGES + 8) * 4096);
                int size = 1 << rnd.nextInt(4);
                long value = rnd.nextLong();
                switch (op) {
                    case 3, 4 -> {
                        vm.memory().write(gpa, value, size);
                        modelWrite(model, gpa, value, size, false);
                    }
                    case 5, 6 -> {
                        vm.vcpu(rnd.nextInt(2)).emulatorWritePhys(gpa, value, size);
                        modelWrite(model, gpa, value, size, true);
                    }
                    default -> assertEquals(modelRead(model, gpa, size), vm.memory().read(gpa, size),
                            ctx + "read 0x" + Long.toHexString(gpa) + " size " + size);
                }
            }
            checkSlots(ctx, vm, model);
        }
    }

    private static void checkSlots(String ctx, Vm vm, TreeMap<Integer, ModelSlot> model) {
        List<Memslot> slots = vm.memslots();
        assertEquals(model.size(), slots.size(), ctx + "slot count");
        for (Memslot s : slots) {
            ModelSlot m = model.get(s.id());
            assertEquals(m.base, s.baseGfn(), ctx + "base of slot " + s.id());
            assertEquals(m.npages, s.npages(), ctx + "npages of slot " + s.id());
            assertEquals(s, vm.slotForGfn(m.base), ctx + "lookup of slot " + s.id());
            assertEquals(s, vm.slotForGfn(m.base + m.npages - 1), ctx + "lookup of slot end " + s.id());
        }
    }

    static Integer overlap(TreeMap<Integer, ModelSlot> model, long base, long npages, int except) {
        for (Map.Entry<Integer, ModelSlot> e : model.entrySet()) {
            ModelSlot s = e.getValue();
            if (e.getKey() != except && base < s.base + s.npages && s.base < base + npages) {
                return e.getKey();
            }
        }
        return null;
    }

    static ModelSlot slotOf(TreeMap<Integer, ModelSlot> model, long gfn) {
        for (ModelSlot s : model.values()) {
            if (gfn >= s.base && gfn < s.base + s.npages) {
                return s;
            }
        }
        return null;
    }

    static void modelWrite(TreeMap<Integer, ModelSlot> model, long gpa, long value, int size, boolean vcpu) {
        for (int i = 0; i < size; i++) {
            long a = gpa + i;
            ModelSlot s = slotOf(model, a >>> 12);
            if (s != null && !(vcpu && (s.flags & Memslot.READONLY) != 0)) {
                s.bytes.put(a - (s.base << 12), (byte) (value >>> (8 * i)));
            }
        }
    }

    static long modelRead(TreeMap<Integer, ModelSlot> model, long gpa, int size) {
        long v = 0;
        for (int i = 0; i < size; i++) {
            long a = gpa + i;
            ModelSlot s = slotOf(model, a >>> 12);
            long b = s == null ? 0xff : s.bytes.getOrDefault(a - (s.base << 12), (byte) 0) & 0xff;
            v |= b << (8 * i);
        }
        return v;
    }

    static boolean attempt(Runnable r) {
        try {
            r.run();
            return true;
        } catch (VmException e) {
            return false;
        }
    }
}
