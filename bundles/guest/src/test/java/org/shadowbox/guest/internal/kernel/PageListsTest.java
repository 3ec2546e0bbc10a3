package org.shadowbox.guest.internal.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The page allocator's per-thread page lists ({@link PhysMem}): with one host thread they hand
 * out exactly the pages, in exactly the order, of the single last-freed-first stack they replaced
 * (so one-thread runs keep every count); with two, no page is ever out twice, the counts add up,
 * and a thread that finds the zone empty gets the pages the other thread's list holds before it
 * is told the guest is out of memory.
 */
class PageListsTest {
    private static PhysMem phys(long memoryBytes, int threads) {
        Vm vm = new HypervisorImpl().createVm(VmSpec.pc("p", memoryBytes, 2));
        return new PhysMem(vm.memslots(), 1L << 40, new Counters(2, threads), threads);
    }

    @Test
    void linuxBatchSizes() {
        assertEquals(31, PhysMem.zoneBatchSize(261_888), "1 GiB zone");
        assertEquals(15, PhysMem.zoneBatchSize(65_280), "256 MiB zone");
        assertEquals(3, PhysMem.zoneBatchSize(16_128), "64 MiB zone");
        assertEquals(0, PhysMem.zoneBatchSize(1_000), "a tiny zone: high 0, batch 1");
        PhysMem p = phys(1L << 30, 1);
        assertEquals(31, p.batch);
        assertEquals(186, p.high);
    }

    /** The reference: the allocator before the lists, one stack of free gfns, the top handed out first. */
    @Test
    void oneThreadGetsTheSingleStacksPagesInItsOrder() {
        for (long seed = 1; seed <= 6; seed++) {
            PhysMem p = phys(seed % 2 == 0 ? 64L << 20 : 256L << 20, 1);
            ArrayDeque<Integer> ref = new ArrayDeque<>(); // head = top
            // the same initial stack: allocate everything, then free it back in reverse, through both
            List<Long> all = new ArrayList<>();
            int total = p.totalPages();
            for (int i = 0; i < total; i++) {
                all.add(p.alloc(PhysMem.ANON));
            }
            for (int i = all.size() - 1; i >= 0; i--) {
                p.free(all.get(i));
                ref.push((int) (long) all.get(i));
            }
            SplittableRandom r = new SplittableRandom(seed);
            List<Long> held = new ArrayList<>();
            for (int step = 0; step < 200_000; step++) {
                boolean alloc = held.isEmpty() || (held.size() < total && r.nextInt(100) < (step / 20_000 % 2 == 0 ? 60 : 40));
                if (alloc) {
                    long g = p.alloc(r.nextBoolean() ? PhysMem.ANON : PhysMem.PAGE_TABLE);
                    assertEquals((long) ref.pop(), g, "seed " + seed + " step " + step + ": allocation order");
                    held.add(g);
                } else {
                    int i = r.nextInt(held.size());
                    long g = held.get(i);
                    held.set(i, held.get(held.size() - 1));
                    held.remove(held.size() - 1);
                    p.free(g);
                    ref.push((int) g);
                }
            }
            assertEquals(total - held.size(), p.freePages(), "seed " + seed);
        }
    }

    @Test
    void twoThreadsNeverHoldThePageTwiceAndTheCountsAddUp() throws Exception {
        for (long seed = 1; seed <= 4; seed++) {
            PhysMem p = phys(64L << 20, 2);
            int total = p.totalPages();
            AtomicIntegerArray out = new AtomicIntegerArray(p.frames);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CyclicBarrier start = new CyclicBarrier(2);
            int[] heldAtEnd = new int[2];
            long s = seed;
            Thread[] ts = new Thread[2];
            for (int t = 0; t < 2; t++) {
                int id = t;
                ts[t] = new Thread(() -> {
                    try {
                        p.bind(id);
                        start.await();
                        SplittableRandom r = new SplittableRandom(s * 31 + id);
                        List<Long> held = new ArrayList<>();
                        for (int step = 0; step < 100_000; step++) {
                            if (held.isEmpty() || (held.size() < total / 3 && r.nextInt(100) < 55)) {
                                long g = p.alloc(PhysMem.ANON);
                                if (!out.compareAndSet((int) g, 0, 1)) {
                                    throw new AssertionError("seed " + s + ": gfn 0x" + Long.toHexString(g) + " handed out twice");
                                }
                                held.add(g);
                            } else {
                                long g = held.remove(held.size() - 1 - r.nextInt(Math.min(8, held.size())));
                                out.set((int) g, 0);
                                p.free(g);
                            }
                        }
                        heldAtEnd[id] = held.size();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("seed " + seed, failure.get());
            }
            assertEquals(total - heldAtEnd[0] - heldAtEnd[1], p.freePages(), "seed " + seed + ": free pages");
            assertTrue(p.peakPages() >= Math.max(heldAtEnd[0] + heldAtEnd[1], 1), "seed " + seed + ": peak");
            assertTrue(p.peakPages() <= total, "seed " + seed + ": peak");
        }
    }

    @Test
    void theZoneEmptyAThreadTakesTheOtherThreadsListBeforeRunningOut() throws Exception {
        PhysMem p = phys(64L << 20, 2);
        int total = p.totalPages();
        // thread 1 takes a few pages and frees them: they stay on its list (fewer than high)
        List<Long> onList1 = new ArrayList<>();
        Thread t1 = new Thread(() -> {
            p.bind(1);
            for (int i = 0; i < p.high; i++) {
                onList1.add(p.alloc(PhysMem.ANON));
            }
            for (long g : onList1) {
                p.free(g);
            }
        });
        t1.start();
        t1.join();
        p.bind(0);
        List<Long> mine = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            mine.add(p.alloc(PhysMem.ANON)); // the last ones come from thread 1's list, drained
        }
        assertTrue(mine.containsAll(onList1), "the pages thread 1's list held were handed out");
        assertEquals(0, p.freePages());
        VmException e = assertThrows(VmException.class, () -> p.alloc(PhysMem.ANON));
        assertTrue(e.getMessage().startsWith("guest out of memory: all " + total + " pages in use"), e.getMessage());
        assertEquals(total, p.peakPages());
    }
}
