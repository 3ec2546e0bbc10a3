package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmSpec;

/**
 * Two vCPUs on two host threads against bare metal, with the MMU's invariant checker at every
 * rendezvous: the lockless walks ({@link VcpuMode}) and the zap's grace period under real
 * concurrency. Both vCPUs share one address space (one PML4 and PDPT, so shared shadow pages);
 * each owns a 1 GiB region of it (its own directory and tables) and a window through which it
 * rewrites its own page-table entries with guest stores (leaf tables go unsync; directory
 * entries are write-protected and emulated), followed by INVLPG or a CR3 reload, as an OS does. A shadow page limit of 12 makes every few faults recycle
 * the oldest pages, the other vCPU's included, while it walks them without the lock. Every
 * access is compared with a bare-metal processor reading the same memory: value, fault and
 * error code. Every {@link #RENDEZVOUS} steps both threads stop and the checker runs on the
 * quiet MMU. Seeded ({@code -Dshadowbox.seed}); the seed is in every message.
 */
class SmpDifferentialTest {
    private static final int OPS = Integer.getInteger("shadowbox.ops", 6_000);
    private static final int RENDEZVOUS = 64;
    private static final long PML4 = 0x10, PDPT = 0x11;
    private static final int TABLES = 4; // pdMap below has one entry per table // page tables per vCPU, each mapping 2 MiB
    private static final int FRAMES = 32; // data frames per vCPU
    private static final long TABLE = ShadowRig.RWU | Pte.A;
    private static final long LEAF = ShadowRig.RWU | Pte.A | Pte.D;

    private static long pd(int t) {
        return 0x20 + t;
    }

    private static long pt(int t, int k) {
        return 0x30 + 8L * t + k;
    }

    private static long frame(int t, int f) {
        return 0x400 + 0x100L * t + f;
    }

    /** vCPU t's region: PDPT entry 1 + t. */
    private static long gva(int t, int k, int page) {
        return ((1L + t) << 30) | ((long) k << 21) | ((long) page << 12);
    }

    /** Where vCPU t sees its page tables: PD entry TABLES maps a table whose entries name them. */
    private static long window(int t, int k) {
        return ((1L + t) << 30) | ((long) TABLES << 21) | ((long) k << 12);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {VmSpec.POLICY_PAGETRACK, VmSpec.POLICY_LEGACY})
    void twoThreadsAgreeWithBareMetalAndKeepTheInvariants(String policy) throws Exception {
        long seed = Long.getLong("shadowbox.seed", 0x15aL);
        String where = policy + ", 2 threads, seed " + seed + " (replay: -Dshadowbox.seed=" + seed + ")";
        ShadowRig rig = new ShadowRig("smp", 64L << 20, 2, 64, policy);
        rig.mmu.setMaxMmuPages(12);
        SplittableRandom setup = new SplittableRandom(seed);
        for (int t = 0; t < 2; t++) {
            rig.pte(PML4, 0, (PDPT << 12) | TABLE);
            rig.pte(PDPT, 1 + t, (pd(t) << 12) | TABLE);
            for (int k = 0; k < TABLES; k++) {
                rig.pte(pd(t), k, (pt(t, k) << 12) | TABLE);
                for (int i = 0; i < 8; i++) {
                    rig.pte(pt(t, k), i, (frame(t, setup.nextInt(FRAMES)) << 12) | LEAF);
                }
            }
            long win = 0x60 + t; // the window table: entry k maps pt(t, k)
            rig.pte(pd(t), TABLES, (win << 12) | TABLE);
            for (int k = 0; k < TABLES; k++) {
                rig.pte(win, k, (pt(t, k) << 12) | LEAF);
            }
            rig.pte(win, TABLES, (pd(t) << 12) | LEAF); // and the directory, a shadowed non-leaf table
            for (int f = 0; f < FRAMES; f++) {
                rig.mem.write(frame(t, f) << 12, 0x1000L * t + f, 8);
            }
            rig.vm.vcpu(t).set(Register.CR3, PML4 << 12);
        }
        CyclicBarrier barrier = new CyclicBarrier(2, () -> rig.assertConsistent(where + ", at a rendezvous"));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int me = t;
            threads[t] = new Thread(() -> {
                try {
                    run(rig, me, new SplittableRandom(seed * 31 + me), barrier, where);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    for (Thread other : threads) {
                        if (other != Thread.currentThread()) {
                            other.interrupt(); // it may not have reached the barrier yet
                        }
                    }
                }
            }, "vcpu" + t);
            threads[t].start();
        }
        for (Thread th : threads) {
            th.join(TimeUnit.MINUTES.toMillis(2));
            assertTrue(!th.isAlive(), where + ": " + th.getName() + " did not finish");
        }
        if (failure.get() != null) {
            throw new AssertionError(where, failure.get());
        }
        rig.assertConsistent(where + ", at the end");
        MmuStats s = rig.mmu.stats();
        assertTrue(s.get(MmuCounter.MMU_RECYCLED) > 0 && s.get(MmuCounter.PF_EMULATE) > 0 && s.get(MmuCounter.TLB_MISS) > 0,
                where + ": the run recycled pages, emulated table writes and walked: " + s);
    }

    private static void run(ShadowRig rig, int t, SplittableRandom rnd, CyclicBarrier barrier, String where)
            throws InterruptedException, BrokenBarrierException, java.util.concurrent.TimeoutException {
        VcpuMmu cpu = rig.cpu(t);
        AccessResult r = new AccessResult();
        BareMetalCpu metal = BareMetalCpu.inspector(rig.vm.vcpu(t));
        int[] pdMap = {0, 1, 2, 3}; // which of its tables each directory entry names now
        for (int step = 0; step < OPS; step++) {
            String at = where + ", vCPU " + t + " step " + step;
            int k = rnd.nextInt(TABLES);
            int page = rnd.nextInt(8);
            long gva = gva(t, k, page) + 8L * rnd.nextInt(512);
            int op = rnd.nextInt(100);
            if (op < 15) { // remap (or unmap) one of its pages, then INVLPG
                long pte = rnd.nextInt(8) == 0 ? 0 : (frame(t, rnd.nextInt(FRAMES)) << 12) | LEAF;
                assertTrue(cpu.write(window(t, k) + 8L * page, pte, 8, false, r).ok(), at + ": table store " + r);
                for (int e = 0; e < TABLES; e++) {
                    if (pdMap[e] == k) {
                        cpu.invlpg(gva(t, e, page)); // every gva the changed entry maps, as an OS must
                    }
                }
            } else if (op < 18) { // point a directory entry at another of its tables, then reload CR3
                pdMap[k] = rnd.nextInt(TABLES);
                long pde = (pt(t, pdMap[k]) << 12) | TABLE;
                assertTrue(cpu.write(window(t, TABLES) + 8L * k, pde, 8, false, r).ok(), at + ": directory store " + r);
                cpu.writeCr3(PML4 << 12);
            } else if (op < 20) {
                cpu.writeCr3(PML4 << 12);
            } else if (op < 40) {
                long value = rnd.nextLong();
                boolean ok = cpu.write(gva, value, 8, rnd.nextBoolean(), r).ok();
                boolean metalOk = metal.read(gva, 8, false);
                assertEquals(metalOk, ok, at + ": a write faults exactly when bare metal finds no mapping; " + r);
                if (ok) {
                    assertEquals(value, metal.value(), at + ": bare metal reads back the store");
                }
            } else {
                boolean user = rnd.nextBoolean();
                boolean ok = cpu.read(gva, 8, user, r).ok();
                boolean metalOk = metal.read(gva, 8, user);
                assertEquals(metalOk, ok, at + ": read outcome against bare metal; " + r);
                if (ok) {
                    assertEquals(metal.value(), r.value, at + ": value against bare metal");
                } else {
                    assertEquals(metal.errorCode(), r.errorCode, at + ": error code against bare metal");
                }
            }
            if (step % RENDEZVOUS == RENDEZVOUS - 1) {
                barrier.await(1, TimeUnit.MINUTES);
            }
        }
    }
}
