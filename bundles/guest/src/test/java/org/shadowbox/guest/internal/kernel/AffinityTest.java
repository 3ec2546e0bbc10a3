package org.shadowbox.guest.internal.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The SMP run queue's cache affinity ({@link Scheduler#dequeueAffine}): seeded random queues of
 * processes, each last run on host thread 0 or 1 or never run, picked from by random threads,
 * against a reference list: the first process that last ran on the picking thread or never ran,
 * else the head; the rest keep their order. The seed is {@code -Dshadowbox.seed} when set, else
 * a few fixed ones; it is in every message.
 */
class AffinityTest {
    static List<Long> seeds() {
        String s = System.getProperty("shadowbox.seed");
        return s == null ? List.of(1L, 2L, 3L, 4L) : List.of(Long.decode(s));
    }

    @Test
    void aPickPrefersAProcessOfItsOwnThreadAndOtherwiseTakesTheHead() {
        for (long seed : seeds()) {
            Vm vm = new HypervisorImpl().createVm(VmSpec.pc("affinity", 64L << 20, 4).with(VmSpec.PAGING, "64"));
            GuestCpu[] cpus = new GuestCpu[4];
            for (int i = 0; i < cpus.length; i++) {
                cpus[i] = new BareMetalCpu(vm.vcpu(i));
            }
            Kernel k = new Kernel(vm, cpus, "64", seed, 2);
            Scheduler s = k.scheduler();
            SplittableRandom rng = new SplittableRandom(seed);
            List<Task> model = new ArrayList<>();
            int pid = 1000;
            k.tasklist.lock();
            try {
                for (int step = 0; step < 2000; step++) {
                    String where = "seed " + seed + ", step " + step;
                    if (model.isEmpty() || rng.nextInt(3) > 0) {
                        Task t = new Task(pid++, null, seed);
                        t.lastThread = rng.nextInt(3) - 1;
                        s.enqueue(t);
                        model.add(t);
                        continue;
                    }
                    int thread = rng.nextInt(2);
                    Task expected = model.get(0);
                    for (Task t : model) {
                        if (t.lastThread == thread || t.lastThread < 0) {
                            expected = t;
                            break;
                        }
                    }
                    model.remove(expected);
                    assertSame(expected, s.dequeueAffine(thread), where + ": thread " + thread + " picks");
                    assertEquals(model.isEmpty(), s.queueEmpty(), where + ": the queue's length");
                }
                for (Task t : model) {
                    assertSame(t, s.dequeue(), "seed " + seed + ": the order of the rest");
                }
            } finally {
                k.tasklist.unlock();
            }
        }
    }
}
