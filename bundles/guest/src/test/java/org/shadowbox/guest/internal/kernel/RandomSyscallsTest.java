package org.shadowbox.guest.internal.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random system calls and accesses (mmap of anonymous and file memory, munmap, mprotect,
 * brk, fork, file writes, reads, writes, fetches) by several processes on 2 vCPUs; after every
 * step every live process's pages are read through its own tables by the reference walker and
 * compared with the kernel's bookkeeping and the values stored. The seed is in every message.
 */
class RandomSyscallsTest {
    private static final int STEPS = 1500;

    @ParameterizedTest
    @ValueSource(strings = {"64", "pae", "32"})
    void randomSyscallsKeepEveryProcessViewIntact(String paging) {
        long seed = 0xC0FFEEL + paging.hashCode();
        Rig r = new Rig(paging, 128L << 20, 2, seed);
        int[] files = new int[4];
        for (int i = 0; i < files.length; i++) {
            files[i] = r.k.createFile(1 + i * 3);
        }
        int text = r.k.createFile(8);
        int data = r.k.createFile(4);
        Image img = new Image("chaos", text, 8, data, 4, 8, 4);
        int[] forksLeft = {6};
        r.k.spawn(img, new Chaos(r, files, forksLeft, STEPS, seed));
        try {
            r.k.scheduler().run(null, 0);
            Verifier.verify(r.k, r.probe, true);
        } catch (RuntimeException e) {
            throw new AssertionError("paging " + paging + " seed " + seed + ": " + e.getMessage(), e);
        }
        assertEquals(0, r.k.live(), "seed " + seed);
        assertEquals(0, r.k.counts().spuriousFaults(), "seed " + seed);
    }

    /** A process doing random things, checking every live process after each. */
    private static final class Chaos extends Program {
        private final Rig r;
        private final int[] files;
        private final int[] forksLeft;
        private final long seed;
        private final List<Area> extra = new ArrayList<>();
        private int steps;
        private int output = -1;

        Chaos(Rig r, int[] files, int[] forksLeft, int steps, long seed) {
            this.r = r;
            this.files = files;
            this.forksLeft = forksLeft;
            this.steps = steps;
            this.seed = seed;
        }

        @Override
        protected void run(Kernel k, Task t, int budget) {
            SplittableRandom rnd = t.rng;
            for (int i = 0; i < budget; i++) {
                if (steps-- <= 0) {
                    int w = k.waitChild(t);
                    if (w == 0) {
                        return;
                    }
                    if (w < 0) {
                        k.exit(t);
                        return;
                    }
                    continue;
                }
                int op = rnd.nextInt(100);
                if (op < 60) {
                    randomAccess(k, t, rnd);
                } else if (op < 66 && extra.size() < 6) {
                    extra.add(k.mmap(t, 1 + rnd.nextInt(24), Area.READ | (rnd.nextBoolean() ? Area.WRITE : 0), Area.ANON, 0));
                } else if (op < 71 && extra.size() < 6) {
                    int f = files[rnd.nextInt(files.length)];
                    extra.add(k.mmap(t, k.filePages(f), Area.READ | (rnd.nextBoolean() ? Area.WRITE : 0), f, 0));
                } else if (op < 77 && !extra.isEmpty()) {
                    k.munmap(t, extra.remove(rnd.nextInt(extra.size())));
                } else if (op < 83 && !extra.isEmpty()) {
                    Area a = extra.get(rnd.nextInt(extra.size()));
                    k.mprotect(t, a, a.prot() ^ Area.WRITE);
                } else if (op < 87) {
                    k.brk(t, t.heap, Math.min(64, t.heap.pages() + 4));
                } else if (op < 90 && forksLeft[0] > 0) {
                    forksLeft[0]--;
                    Chaos child = new Chaos(r, files, forksLeft, steps / 2, seed);
                    Task c = k.fork(t, child);
                    for (Area a : extra) {
                        child.extra.add(c.mm.find(a.start()));
                    }
                } else if (op < 92) {
                    if (output < 0) {
                        output = k.createFile(1);
                    }
                    k.writeFile(t, output, 0, t.heap, rnd.nextInt(t.heap.pages()));
                } else {
                    randomAccess(k, t, rnd);
                }
                for (Task x : k.tasks) {
                    if (!x.exited()) {
                        Verifier.verifyTask(k, x, r.probe);
                    }
                }
            }
        }

        private void randomAccess(Kernel k, Task t, SplittableRandom rnd) {
            int n = 4 + extra.size();
            int which = rnd.nextInt(n);
            Area a = which == 0 ? t.text : which == 1 ? t.data : which == 2 ? t.heap : which == 3 ? t.stack : extra.get(which - 4);
            int kind = a.executable() ? Kernel.FETCH : a.writable() && rnd.nextBoolean() ? Kernel.WRITE : Kernel.READ;
            k.access(t, a, rnd.nextInt(a.pages()), rnd.nextInt(8), kind);
        }
    }
}
