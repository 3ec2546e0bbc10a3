package org.shadowbox.guest.internal.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The copies a fault makes with no page-table lock held, raced on 2 host threads: one process
 * breaks copy-on-write on the pages of a file (each copy made from the page-cache page under its
 * page lock taken shared) and reads every tracked word of its copy back, checked against what the guest
 * believes the copy holds, while another process keeps writing those file pages with
 * {@code write()}, which must wait for a copy in progress (the page lock) so that no copy is
 * torn. A third pair shares anonymous pages copy-on-write after a fork and both sides break it
 * at once. At the end the guest's memory is verified through the reference walker and nothing
 * has leaked. The seed is {@code -Dshadowbox.seed} when set, else a few fixed ones; it is in
 * every message.
 */
class CowCopyRaceTest {
    private static final int PAGES = 4, ROUNDS = 150;

    static List<Long> seeds() {
        String s = System.getProperty("shadowbox.seed");
        return s == null ? List.of(1L, 2L, 3L) : List.of(Long.decode(s));
    }

    @Test
    void copiesOutsideTheLockAreNeverTornByWritesOrSharers() {
        for (long seed : seeds()) {
            String where = "seed " + seed;
            Vm vm = new HypervisorImpl().createVm(VmSpec.pc("race", 64L << 20, 2).with(VmSpec.PAGING, "64"));
            GuestCpu[] cpus = {new BareMetalCpu(vm.vcpu(0)), new BareMetalCpu(vm.vcpu(1))};
            Kernel k = new Kernel(vm, cpus, "64", seed, 2);
            k.boot();
            int file = k.createFile(PAGES);
            Image img = new Image("race", k.createFile(2), 2, k.createFile(1), 1, PAGES, 2);
            k.spawn(img, new Copier(file));
            k.spawn(img, new FileWriter(file));
            k.spawn(img, new Forker());
            try {
                k.scheduler().run(null, 0);
                Verifier.verify(k, BareMetalCpu.inspector(vm.vcpu(0)), true);
            } catch (RuntimeException e) {
                throw new AssertionError(where + ": " + e, e);
            }
            assertEquals(0, k.live(), where);
            assertEquals(0, k.counts().spuriousFaults(), where);
            // A copy of each file page each round, and of each forked page at least once a
            // round (the side that writes it last may reuse it in place).
            long minCow = 2L * ROUNDS * PAGES;
            assertTrue(k.counts().cowFaults() >= minCow, where + ": cow faults " + k.counts().cowFaults() + ", at least " + minCow);
        }
    }

    /** Maps the file privately, writes one word of each page (a copy) and reads all eight back. */
    private static final class Copier extends Program {
        private final int file;
        private int round, page;
        private Area a;

        Copier(int file) {
            this.file = file;
        }

        @Override
        protected void run(Kernel k, Task t, int budget) {
            for (int i = 0; i < budget; i++) {
                if (round == ROUNDS) {
                    k.exit(t);
                    return;
                }
                if (a == null) {
                    a = k.mmap(t, PAGES, Area.READ | Area.WRITE, file, 0);
                    page = 0;
                }
                int slot = t.rng.nextInt(MemoryImage.SLOTS);
                k.access(t, a, page, slot, Kernel.WRITE);
                for (int s = 0; s < MemoryImage.SLOTS; s++) {
                    k.access(t, a, page, s, Kernel.READ); // checked against the copy's image
                }
                if (++page == PAGES) {
                    k.munmap(t, a);
                    a = null;
                    round++;
                }
            }
        }
    }

    /** Fills a heap page with new words and writes it over each page of the file, round after round. */
    private static final class FileWriter extends Program {
        private final int file;
        private int round, page;

        FileWriter(int file) {
            this.file = file;
        }

        @Override
        protected void run(Kernel k, Task t, int budget) {
            for (int i = 0; i < budget; i++) {
                if (round == ROUNDS) {
                    k.exit(t);
                    return;
                }
                for (int s = 0; s < MemoryImage.SLOTS; s++) {
                    k.access(t, t.heap, 0, s, Kernel.WRITE);
                }
                k.writeFile(t, file, page, t.heap, 0);
                if (++page == PAGES) {
                    page = 0;
                    round++;
                }
            }
        }
    }

    /**
     * Each round: writes its heap, forks a child that writes the same pages while the parent
     * does too (both break copy-on-write, the copies outside the lock), reaps the child.
     */
    private static final class Forker extends Program {
        private int round;
        private boolean forked;

        @Override
        protected void run(Kernel k, Task t, int budget) {
            for (int i = 0; i < budget; i++) {
                if (!forked) {
                    if (round == ROUNDS) {
                        k.exit(t);
                        return;
                    }
                    for (int p = 0; p < PAGES; p++) {
                        k.access(t, t.heap, p, 0, Kernel.WRITE);
                    }
                    k.fork(t, new Sharer());
                    forked = true;
                    touchAll(k, t);
                }
                int r = k.waitChild(t);
                if (r == 0) {
                    return; // blocked until the child exits
                }
                if (r < 0) {
                    throw new IllegalStateException(t + " lost its child");
                }
                forked = false;
                round++;
            }
        }
    }

    /** The forked child: writes and reads every shared page, then exits. */
    private static final class Sharer extends Program {
        @Override
        protected void run(Kernel k, Task t, int budget) {
            touchAll(k, t);
            k.exit(t);
        }
    }

    static void touchAll(Kernel k, Task t) {
        for (int p = 0; p < PAGES; p++) {
            k.access(t, t.heap, p, t.rng.nextInt(MemoryImage.SLOTS), Kernel.WRITE);
            for (int s = 0; s < MemoryImage.SLOTS; s++) {
                k.access(t, t.heap, p, s, Kernel.READ);
            }
        }
    }
}
