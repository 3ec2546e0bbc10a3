package org.shadowbox.audit.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vm;

/**
 * Seeded random sequences of watch, unwatch, writes and region removals on two VMs, checked
 * after every step against a plain model: a sorted set of gfns and a list of entries per VM.
 */
class AuditRecorderRandomTest {

    private static final int CAPACITY = 16;
    private static final int STEPS = 2_000;

    /** The model of one VM: what it watches and every entry it should have recorded. */
    private static final class Model {
        final TreeSet<Long> watched = new TreeSet<>();
        final List<AuditEntry> all = new ArrayList<>();
    }

    @Test
    void matchesThePlainModel() {
        long base = Long.getLong("shadowbox.seed", 2016L); // fixed by default: runs must repeat
        for (int run = 0; run < 20; run++) {
            long seed = base + run;
            check(seed);
        }
    }

    private static void check(long seed) {
        Random rnd = new Random(seed);
        long[] clock = { 0 };
        AuditRecorder r = new AuditRecorder(CAPACITY, () -> ++clock[0]);
        Vm[] vms = { TestVms.vm("a"), TestVms.vm("b") };
        Model[] models = { new Model(), new Model() };

        for (int step = 0; step < STEPS; step++) {
            int v = rnd.nextInt(2);
            Vm vm = vms[v];
            Model m = models[v];
            long gfn = rnd.nextInt(64);
            String what;
            switch (rnd.nextInt(10)) {
                case 0, 1 -> {
                    what = "watch " + gfn;
                    assertEquals(m.watched.add(gfn), r.watch(vm, gfn), ctx(seed, step, what));
                }
                case 2 -> {
                    what = "unwatch " + gfn;
                    assertEquals(m.watched.remove(gfn), r.unwatch(vm, gfn), ctx(seed, step, what));
                }
                case 3 -> {
                    long npages = 1 + rnd.nextInt(16);
                    what = "remove region " + gfn + "+" + npages;
                    r.trackRemoveRegion(vm, gfn, npages);
                    var inside = m.watched.subSet(gfn, gfn + npages);
                    int n = inside.size();
                    inside.clear();
                    if (n > 0) {
                        m.all.add(new AuditEntry.RegionRemoved(m.all.size() + 1, clock[0], gfn, npages, n));
                    }
                }
                default -> {
                    int bytes = 1 << rnd.nextInt(4);
                    long gpa = (gfn << 12) | (rnd.nextInt(4096 / bytes) * (long) bytes);
                    long value = rnd.nextLong();
                    int vcpu = rnd.nextInt(4);
                    what = "write vcpu " + vcpu + " gpa 0x" + Long.toHexString(gpa) + " size " + bytes;
                    r.trackWrite(vm, vcpu, gpa, value, bytes);
                    if (m.watched.contains(gfn)) {
                        m.all.add(new AuditEntry.Write(m.all.size() + 1, clock[0], vcpu, gpa, bytes, value));
                    }
                }
            }
            for (int i = 0; i < 2; i++) {
                Model mi = models[i];
                String c = ctx(seed, step, what) + ", VM " + vms[i].name();
                assertArrayEquals(mi.watched.stream().mapToLong(Long::longValue).toArray(), r.watched(vms[i]), c);
                WriteLog.Snapshot s = r.log(vms[i]);
                int total = mi.all.size();
                assertEquals(total, s.recorded(), c);
                assertEquals(Math.max(0, total - CAPACITY), s.dropped(), c);
                assertEquals(mi.all.subList(Math.max(0, total - CAPACITY), total), s.entries(), c);
            }
        }
    }

    private static String ctx(long seed, int step, String what) {
        return "seed " + seed + ", step " + step + " (" + what + ")";
    }
}
