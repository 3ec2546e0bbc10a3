package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.shadowbox.pagetrack.TrackMode.WRITE;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * Seeded random sequences of add, remove, release, emulated writes and slot create, delete
 * and move over several owners, on the real vm bundle, checked after every step against a
 * plain map model. Every assertion message starts with the seed and the step: replay with
 * {@code -Dpagetrack.seed=N}.
 */
class PageTrackRandomTest {
    private static final int SEEDS = 20;
    private static final int STEPS = 2_000;
    /** Slots live in gfn [0, UNIVERSE): four 2 MiB frames, one 1 GiB frame. */
    private static final long UNIVERSE = 0x800;
    private static final int MAX_SLOT_ID = 5;
    private static final String[] OWNERS = {"ext.a", "ext.b", "mmu"};

    static LongStream seeds() {
        String fixed = System.getProperty("pagetrack.seed");
        return fixed != null ? LongStream.of(Long.decode(fixed)) : LongStream.range(0, SEEDS).map(i -> 0x5eed_0000L + i);
    }

    /** The model: slots by id (base, npages) and, per owner, gfn -> count. */
    private final TreeMap<Integer, long[]> slots = new TreeMap<>();
    private final Map<String, TreeMap<Long, Integer>> held = new HashMap<>();
    private final List<String> expectedEvents = new ArrayList<>();
    /** lpage_info as the slot had it when created or moved (before any track), per slot id, per level, per frame. */
    private final Map<Integer, Map<Long, Integer>> lpageBaseline = new HashMap<>();

    private final Rig rig = new Rig();
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, OwnerTrack> tracks = new HashMap<>();
    private Vm vm;
    private Random rnd;
    private String where;

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomSequencesMatchTheModel(long seed) {
        rnd = new Random(seed);
        rig.core.register(new Rig.Recorder("rec", events), "test.recorder");
        vm = rig.hv.createVm(new VmSpec("r" + seed, 2, List.of(), VmSpec.DEFAULT_MAXPHYADDR));
        for (String o : OWNERS) {
            tracks.put(o, rig.core.forOwner(o, o.equals("mmu") ? TrackerRole.MMU : TrackerRole.EXTERNAL));
            held.put(o, new TreeMap<>());
        }
        where = "seed " + seed + " setup";
        createSlot(0, 0x0, 0xa0);
        createSlot(1, 0x100, 0x300);
        check(true);
        for (int step = 0; step < STEPS; step++) {
            where = "seed " + seed + " step " + step;
            int op = rnd.nextInt(100);
            if (op < 40) {
                add();
            } else if (op < 70) {
                remove();
            } else if (op < 78) {
                createSlot(rnd.nextInt(MAX_SLOT_ID + 1), rnd.nextLong(UNIVERSE), 1 + rnd.nextLong(0x200));
            } else if (op < 84) {
                deleteSlot(rnd.nextInt(MAX_SLOT_ID + 1));
            } else if (op < 92) {
                moveSlot(rnd.nextInt(MAX_SLOT_ID + 1), rnd.nextLong(UNIVERSE));
            } else if (op < 95) {
                release(OWNERS[rnd.nextInt(OWNERS.length)]);
            } else {
                emulatedWrite();
            }
            check(step % 100 == 0);
        }
    }

    private Integer slotOf(long gfn) {
        for (Map.Entry<Integer, long[]> e : slots.entrySet()) {
            if (gfn >= e.getValue()[0] && gfn < e.getValue()[0] + e.getValue()[1]) {
                return e.getKey();
            }
        }
        return null;
    }

    private int modelCount(long gfn) {
        int n = 0;
        for (TreeMap<Long, Integer> m : held.values()) {
            n += m.getOrDefault(gfn, 0);
        }
        return n;
    }

    private long randomGfn() {
        return rnd.nextLong(UNIVERSE + 0x40) - 0x20; // a few beyond the universe and below 0
    }

    private void add() {
        String o = OWNERS[rnd.nextInt(OWNERS.length)];
        long gfn = randomGfn();
        boolean inSlot = slotOf(gfn) != null;
        try {
            assertTrue(tracks.get(o).add(vm, gfn, WRITE), where + ": add 0x" + Long.toHexString(gfn));
            assertTrue(inSlot, where + ": add of 0x" + Long.toHexString(gfn) + " in no slot was accepted");
            held.get(o).merge(gfn, 1, Integer::sum);
        } catch (VmException e) {
            assertTrue(!inSlot, where + ": add of 0x" + Long.toHexString(gfn) + " refused: " + e.getMessage());
        }
    }

    private void remove() {
        String o = OWNERS[rnd.nextInt(OWNERS.length)];
        TreeMap<Long, Integer> mine = held.get(o);
        long gfn = !mine.isEmpty() && rnd.nextInt(10) < 7
                ? new ArrayList<>(mine.keySet()).get(rnd.nextInt(mine.size())) : randomGfn();
        boolean allowed = slotOf(gfn) != null && mine.getOrDefault(gfn, 0) > 0;
        try {
            assertTrue(tracks.get(o).remove(vm, gfn, WRITE), where + ": remove 0x" + Long.toHexString(gfn));
            assertTrue(allowed, where + ": " + o + " removed 0x" + Long.toHexString(gfn) + " it does not hold");
            if (mine.merge(gfn, -1, Integer::sum) == 0) {
                mine.remove(gfn);
            }
        } catch (VmException e) {
            assertTrue(!allowed, where + ": remove of 0x" + Long.toHexString(gfn) + " by " + o + " refused: "
                    + e.getMessage());
        }
    }

    private boolean overlaps(long base, long npages, Integer except) {
        for (Map.Entry<Integer, long[]> e : slots.entrySet()) {
            long[] s = e.getValue();
            if (!e.getKey().equals(except) && base < s[0] + s[1] && s[0] < base + npages) {
                return true;
            }
        }
        return false;
    }

    private void createSlot(int id, long base, long npages) {
        boolean ok = !slots.containsKey(id) && !overlaps(base, npages, null);
        try {
            vm.createSlot(new SlotSpec(id, base, npages, 0));
            assertTrue(ok, where + ": create of slot " + id + " accepted");
            slots.put(id, new long[] {base, npages});
            recordBaseline(id);
        } catch (VmException e) {
            assertTrue(!ok, where + ": create of slot " + id + " refused: " + e.getMessage());
        }
    }

    private void deleteSlot(int id) {
        long[] s = slots.get(id);
        try {
            vm.deleteSlot(id);
            assertTrue(s != null, where + ": delete of missing slot " + id + " accepted");
            slots.remove(id);
            dropRange(s[0], s[1]);
            expectedEvents.add("rec:remove " + vm.name() + " 0x" + Long.toHexString(s[0]) + "+" + s[1]);
        } catch (VmException e) {
            assertTrue(s == null, where + ": delete of slot " + id + " refused: " + e.getMessage());
        }
    }

    private void moveSlot(int id, long newBase) {
        long[] s = slots.get(id);
        boolean external = false;
        if (s != null) {
            for (String o : OWNERS) {
                external |= !o.equals("mmu") && !held.get(o).subMap(s[0], s[0] + s[1]).isEmpty();
            }
        }
        boolean ok = s != null && !overlaps(newBase, s[1], id) && !external;
        try {
            vm.moveSlot(id, newBase);
            assertTrue(ok, where + ": move of slot " + id + " to 0x" + Long.toHexString(newBase) + " accepted");
            dropRange(s[0], s[1]); // only the MMU can have had tracks there
            slots.put(id, new long[] {newBase, s[1]});
            recordBaseline(id);
        } catch (VmException e) {
            assertTrue(!ok, where + ": move of slot " + id + " refused: " + e.getMessage());
            if (s != null && external && !overlaps(newBase, s[1], id)) {
                assertTrue(e.getMessage().startsWith("cannot move slot " + id + " of VM " + vm.name()
                        + ": external trackers hold tracked pages in it"), where + ": " + e.getMessage());
            }
        }
    }

    private void dropRange(long base, long npages) {
        for (TreeMap<Long, Integer> m : held.values()) {
            m.subMap(base, base + npages).clear();
        }
    }

    private void release(String o) {
        tracks.get(o).release();
        held.get(o).clear();
        tracks.put(o, rig.core.forOwner(o, tracks.get(o).role()));
    }

    private void emulatedWrite() {
        long gfn = randomGfn();
        if (gfn < 0) {
            gfn = 0;
        }
        long gpa = (gfn << 12) + rnd.nextInt(4096 - 8);
        int cpu = rnd.nextInt(2);
        long value = rnd.nextInt(256);
        vm.vcpu(cpu).emulatorWritePhys(gpa, value, 1);
        if (slotOf(gfn) != null) { // a write to no slot is dropped MMIO: nobody is told
            expectedEvents.add("rec:write " + vm.name() + " vcpu" + cpu + " 0x" + Long.toHexString(gpa) + "=0x"
                    + Long.toHexString(value) + "/1");
        }
    }

    /** Frame key: level * 2^40 + frame number. */
    private static long frameKey(int level, long gfn) {
        return ((long) level << 40) + (gfn >>> ((level - 1) * 9));
    }

    private void recordBaseline(int id) {
        Memslot slot = vm.slot(id);
        Map<Long, Integer> b = new HashMap<>();
        for (long gfn = slot.baseGfn(); gfn < slot.endGfn(); gfn++) {
            for (int level = Memslot.LEVEL_2M; level <= Memslot.LEVEL_1G; level++) {
                b.putIfAbsent(frameKey(level, gfn), slot.lpageDisallowCount(gfn, level));
            }
        }
        lpageBaseline.put(id, b);
    }

    private void check(boolean sweepAll) {
        // Slot geometry.
        List<String> want = new ArrayList<>();
        slots.forEach((id, s) -> want.add(id + "@" + s[0] + "+" + s[1]));
        List<String> got = new ArrayList<>();
        vm.memslots().stream().sorted((a, b) -> Integer.compare(a.id(), b.id()))
                .forEach(m -> got.add(m.id() + "@" + m.baseGfn() + "+" + m.npages()));
        assertEquals(want, got, where + ": memslots");
        // Counts and is_active: every held gfn, a sample, or everything.
        OwnerTrack any = tracks.get(OWNERS[0]);
        List<Long> gfns = new ArrayList<>();
        held.values().forEach(m -> gfns.addAll(m.keySet()));
        if (sweepAll) {
            for (long g = -2; g < UNIVERSE + 2; g++) {
                gfns.add(g);
            }
        } else {
            for (int i = 0; i < 32; i++) {
                gfns.add(randomGfn());
            }
        }
        for (long g : gfns) {
            int n = modelCount(g);
            assertEquals(n, any.count(vm, g, WRITE), where + ": count of 0x" + Long.toHexString(g));
            assertEquals(n != 0, any.isActive(vm, g, WRITE), where + ": isActive of 0x" + Long.toHexString(g));
        }
        // tracked(): per gfn, the slot count and the per-owner counts.
        TreeMap<Long, Map<String, Integer>> byGfn = new TreeMap<>();
        held.forEach((o, m) -> m.forEach((g, c) -> byGfn.computeIfAbsent(g, x -> new HashMap<>()).put(o, c)));
        List<TrackedPage> expected = new ArrayList<>();
        byGfn.forEach((g, owners) -> expected.add(new TrackedPage(g, WRITE, modelCount(g), owners)));
        assertEquals(expected, any.tracked(vm), where + ": tracked");
        // lpage_info: the slot's baseline plus one per track in the frame.
        for (Map.Entry<Integer, long[]> e : slots.entrySet()) {
            Memslot slot = vm.slot(e.getKey());
            Map<Long, Integer> baseline = lpageBaseline.get(e.getKey());
            Map<Long, Integer> tracksPerFrame = new HashMap<>();
            for (TreeMap<Long, Integer> m : held.values()) {
                m.subMap(slot.baseGfn(), slot.endGfn()).forEach((g, c) -> {
                    tracksPerFrame.merge(frameKey(Memslot.LEVEL_2M, g), c, Integer::sum);
                    tracksPerFrame.merge(frameKey(Memslot.LEVEL_1G, g), c, Integer::sum);
                });
            }
            for (long g = slot.baseGfn(); g < slot.endGfn(); g++) {
                for (int level = Memslot.LEVEL_2M; level <= Memslot.LEVEL_1G; level++) {
                    long k = frameKey(level, g);
                    if (g != slot.baseGfn() && (g & ((1L << ((level - 1) * 9)) - 1)) != 0) {
                        continue; // one probe per frame
                    }
                    assertEquals(baseline.get(k) + tracksPerFrame.getOrDefault(k, 0), slot.lpageDisallowCount(g, level),
                            where + ": lpage level " + level + " at 0x" + Long.toHexString(g));
                }
            }
        }
        // Notifier events: every emulated write in a slot and every committed delete, in order.
        if (!expectedEvents.equals(events)) {
            fail(where + ": notifier events\n expected " + expectedEvents + "\n got      " + events);
        }
    }
}
