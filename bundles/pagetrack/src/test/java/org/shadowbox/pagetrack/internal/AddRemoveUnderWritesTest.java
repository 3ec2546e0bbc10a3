package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/**
 * KVM's SRCU guarantee for a notifier added and removed while two vCPU threads write: it is
 * called for every write that began after {@code register} returned and ended before
 * {@code unregister} was called, for each vCPU in one unbroken run of that vCPU's writes, and
 * never after {@code unregister} returned. A notifier registered throughout is called for every
 * write, and the guard's count of its calls (kept per vCPU, summed on read) says so exactly,
 * across the notifier-array changes of every round. Seeded: {@code -Dshadowbox.seed=N} replays.
 */
class AddRemoveUnderWritesTest {
    private static final int ROUNDS = 150;

    /** Per vCPU, the writes it received: first and last sequence number, and gaps or disorder seen. */
    private static final class Witness implements PageTrackNotifier {
        final long[] first = {-1, -1};
        final long[] last = {-1, -1};
        final AtomicLong broken = new AtomicLong();
        final AtomicBoolean gone = new AtomicBoolean();
        final AtomicLong afterGone = new AtomicLong();

        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
            if (gone.get()) {
                afterGone.incrementAndGet();
            }
            long seq = value & ((1L << 48) - 1);
            if (first[vcpuId] < 0) {
                first[vcpuId] = seq;
            } else if (seq != last[vcpuId] + 1) {
                broken.incrementAndGet(); // a write of this vCPU skipped or seen twice while attached
            }
            last[vcpuId] = seq;
            if (gone.get()) {
                afterGone.incrementAndGet();
            }
        }
    }

    @Test
    @Timeout(120)
    void calledForExactlyTheWritesBetweenAddAndRemoveAndCountedExactly() throws Exception {
        long seed = Long.getLong("shadowbox.seed", System.nanoTime());
        Random random = new Random(seed);
        Rig rig = new Rig();
        Vm vm = rig.pc("churn");
        AtomicLong steady = new AtomicLong();
        PageTrackNotifier always = (v, cpu, gpa, value, bytes) -> steady.incrementAndGet();
        rig.core.register(always, "steady");

        AtomicLongArray started = new AtomicLongArray(2); // sequence number of the write begun last
        AtomicLongArray done = new AtomicLongArray(2); // of the write ended last
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] vcpus = new Thread[2];
        for (int c = 0; c < 2; c++) {
            int id = c;
            vcpus[c] = new Thread(() -> {
                try {
                    for (long seq = 1; !stop.get(); seq++) {
                        started.set(id, seq);
                        vm.vcpu(id).emulatorWritePhys(0x1000 + id * 0x1000L + (seq & 0x1ff) * 8, ((long) id << 56) | seq, 8);
                        done.set(id, seq);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "vcpu" + c);
            vcpus[c].start();
        }
        List<String> problems = new ArrayList<>();
        try {
            for (int round = 0; round < ROUNDS && problems.isEmpty(); round++) {
                Witness w = new Witness();
                rig.core.register(w, "round" + round);
                long[] startedAtAdd = {started.get(0), started.get(1)};
                spin(random.nextInt(20_000));
                long[] doneBeforeRemove = {done.get(0), done.get(1)};
                rig.core.unregister(w);
                w.gone.set(true);
                // After unregister returned, every call into w is over: its fields are final now.
                for (int id = 0; id < 2; id++) {
                    long mustFrom = startedAtAdd[id] + 1;
                    long mustTo = doneBeforeRemove[id];
                    if (mustTo >= mustFrom && (w.first[id] < 0 || w.first[id] > mustFrom || w.last[id] < mustTo)) {
                        problems.add("round " + round + " vCPU " + id + ": must see writes " + mustFrom + ".." + mustTo
                                + ", saw " + w.first[id] + ".." + w.last[id]);
                    }
                }
                if (w.broken.get() != 0) {
                    problems.add("round " + round + ": " + w.broken.get() + " writes skipped or repeated while attached");
                }
                spin(random.nextInt(2_000));
                if (w.afterGone.get() != 0) {
                    problems.add("round " + round + ": called after unregister returned");
                }
            }
        } finally {
            stop.set(true);
            for (Thread t : vcpus) {
                t.join(10_000);
            }
        }
        assertEquals(null, failure.get(), "seed " + seed);
        assertEquals(List.of(), problems, "seed " + seed);
        long writes = done.get(0) + done.get(1);
        assertEquals(writes, steady.get(), "seed " + seed + ": the steady notifier missed writes");
        NotifierInfo info = rig.core.notifiers(vm).stream().filter(i -> i.bundle().equals("steady")).findFirst().orElseThrow();
        assertEquals(writes, info.calls(), "seed " + seed + ": the guard's count of calls");
        assertTrue(writes > ROUNDS, "seed " + seed + ": the vCPUs wrote (" + writes + ")");
    }

    private static void spin(int n) {
        for (int i = 0; i < n; i++) {
            Thread.onSpinWait();
        }
    }
}
