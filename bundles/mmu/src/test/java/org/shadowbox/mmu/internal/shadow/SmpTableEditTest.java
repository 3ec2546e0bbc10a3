package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.vm.Register;

/**
 * Two threads of one process on two vCPUs, each on its own host thread: vCPU 0 rewrites a page
 * directory entry that vCPU 1 is faulting through at that moment. Each round gives the process
 * a fresh, not yet shadowed directory (so vCPU 0's store does not trap) whose entry 0 names
 * table PT_A; vCPU 0 points it at PT_B while vCPU 1 faults on the region's first page. Then,
 * as after a TLB shootdown, vCPU 1 reloads CR3 and reads the region's other pages, each
 * compared with a bare-metal processor reading the same memory: it must see PT_B's frames.
 *
 * <p>The race is real: {@code FNAME(gpte_changed)} must see that the entry vCPU 1 walked
 * without the lock changed before it shadowed the directory. Without it, vCPU 1 links the
 * directory's shadow to the shadow of PT_A, which earlier accesses filled, and reads PT_A's
 * frames from then on. vCPU 0 stores once vCPU 1 has walked, and vCPU 1 is held between its
 * walk and the MMU lock until the store has landed (a vCPU preempted there), so that every
 * round has the interleaving; the threads otherwise run freely. The seed is {@code -Dshadowbox.seed} when set; it is in every message.
 *
 * <p>A store of vCPU 0 still in flight (translated before vCPU 1 write-protected the directory,
 * performed after its check) is the other half: as in KVM, the write-protecting vCPU's remote
 * TLB flush waits for every vCPU in guest mode, so such a store lands before the re-check and is
 * seen ({@link VcpuMode}; {@code RemoteFlushTest} holds a store in flight across a flush).
 */
class SmpTableEditTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD0 = 0x12, PT_A = 0x20, PT_B = 0x21, PT_W = 0x22;
    private static final long FRAMES_A = 0x400, FRAMES_B = 0x500, FRESH_PD = 0x1000;
    private static final int PAGES = 8;
    private static final int ROUNDS = Integer.getInteger("shadowbox.ops", 400);
    private static final long TABLE = ShadowRig.RWU | Pte.A;
    private static final long LEAF = ShadowRig.RWU | Pte.A | Pte.D;
    /** PT_A's pages, reached through PD0: the accesses that fill PT_A's shadow. */
    private static final long PRELOAD = 1L << 21;
    /** Where vCPU 0 sees round r's directory: PT_W maps it at WINDOW + 4 KiB * r. */
    private static final long WINDOW = 2L << 21;

    private static long region(int round) {
        return (1L + round) << 30; // PDPT entry 1 + r: a fresh directory each round
    }

    /** Spins until {@code done} holds, at most 5 s (a broken peer must not hang the build). */
    private static void await(java.util.function.BooleanSupplier done) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the other vCPU did not get there within 5 s");
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void aDirectoryEntryRewrittenDuringAFaultIsNeverShadowedStale() throws Exception {
        long seed = Long.getLong("shadowbox.seed", 14L);
        String where = "seed " + seed;
        ShadowRig rig = new ShadowRig();
        rig.pte(PML4, 0, (PDPT << 12) | TABLE);
        rig.pte(PDPT, 0, (PD0 << 12) | TABLE);
        rig.pte(PD0, 1, (PT_A << 12) | TABLE);
        rig.pte(PD0, 2, (PT_W << 12) | TABLE);
        for (int i = 0; i < PAGES; i++) {
            rig.pte(PT_A, i, ((FRAMES_A + i) << 12) | LEAF);
            rig.pte(PT_B, i, ((FRAMES_B + i) << 12) | LEAF);
            rig.mem.write((FRAMES_A + i) << 12, 0xa000 + i, 8);
            rig.mem.write((FRAMES_B + i) << 12, 0xb000 + i, 8);
        }
        for (int r = 0; r < ROUNDS; r++) {
            rig.pte(PDPT, 1 + r, ((FRESH_PD + r) << 12) | TABLE);
            rig.pte(FRESH_PD + r, 0, (PT_A << 12) | TABLE);
            rig.pte(PT_W, r, ((FRESH_PD + r) << 12) | LEAF);
        }
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        rig.vm.vcpu(1).set(Register.CR3, PML4 << 12);
        VcpuMmu a = rig.cpu(0);
        VcpuMmu b = rig.cpu(1);
        AccessResult ra = new AccessResult();
        AccessResult rb = new AccessResult();
        for (int i = 0; i < PAGES; i++) {
            assertTrue(b.read(PRELOAD + 4096L * i, 8, false, rb).ok(), where);
        }
        BareMetalCpu metal = BareMetalCpu.inspector(rig.vm.vcpu(1));

        SplittableRandom rnd = new SplittableRandom(seed);
        int[] pages = new int[ROUNDS]; // the page vCPU 1 faults on first, each round
        for (int r = 0; r < ROUNDS; r++) {
            pages[r] = rnd.nextInt(PAGES);
        }
        CyclicBarrier barrier = new CyclicBarrier(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] round = new int[1];
        AtomicInteger walked = new AtomicInteger(); // rounds in which vCPU 1 has walked (and now waits)
        AtomicInteger stored = new AtomicInteger(); // rounds whose store of vCPU 0 has landed
        b.afterGuestWalk = () -> {
            int r = round[0];
            if (walked.get() > r) {
                return; // the retry's walk: go on
            }
            walked.set(r + 1);
            await(() -> stored.get() > r);
        };
        Thread vcpu0 = new Thread(() -> {
            try {
                for (int r = 0; r < ROUNDS; r++) {
                    barrier.await(10, TimeUnit.SECONDS);
                    int rr = r;
                    await(() -> walked.get() > rr); // vCPU 1 has walked the old entry and not yet locked
                    if (!a.write(WINDOW + 4096L * r, (PT_B << 12) | TABLE, 8, false, ra).ok()) {
                        throw new AssertionError(where + " round " + r + ": vCPU 0's store " + ra);
                    }
                    stored.set(r + 1);
                    barrier.await(10, TimeUnit.SECONDS);
                    barrier.await(10, TimeUnit.SECONDS); // vCPU 1 has checked the round
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                barrier.reset();
            }
        }, "vcpu0");
        vcpu0.start();
        int sawB = 0;
        try {
            for (int r = 0; r < ROUNDS; r++) {
                round[0] = r;
                barrier.await(10, TimeUnit.SECONDS);
                assertTrue(b.read(region(r) + 4096L * pages[r], 8, false, rb).ok(), where + " round " + r + ": " + rb);
                long first = rb.value;
                assertTrue(first == 0xa000 + pages[r] || first == 0xb000 + pages[r],
                        where + " round " + r + ": read 0x" + Long.toHexString(first));
                if (first == 0xb000 + pages[r]) {
                    sawB++;
                }
                barrier.await(10, TimeUnit.SECONDS);
                b.writeCr3(PML4 << 12); // the shootdown: vCPU 1's TLB is empty now
                for (int i = 0; i < PAGES; i++) {
                    long gva = region(r) + 4096L * i;
                    assertTrue(b.read(gva, 8, false, rb).ok(), where + " round " + r + ": " + rb);
                    assertTrue(metal.read(gva, 8, false), where);
                    assertEquals(metal.value(), rb.value, where + " round " + r + " page " + i
                            + ": vCPU 1 against bare metal after the shootdown (0xb... is PT_B's, 0xa... the stale PT_A's)");
                }
                barrier.await(10, TimeUnit.SECONDS);
            }
        } catch (Throwable t) {
            barrier.reset();
            vcpu0.join(10_000);
            if (failure.get() != null) {
                t.addSuppressed(failure.get());
            }
            throw t;
        }
        vcpu0.join(10_000);
        if (failure.get() != null) {
            throw new AssertionError(where, failure.get());
        }
        long retries = b.gpteChangedRetries();
        System.out.println("SmpTableEditTest " + where + ": " + ROUNDS + " rounds, vCPU 1's first read saw PT_B in "
                + sawB + ", gpte_changed retries " + retries);
        assertEquals(ROUNDS, retries, where + ": each round's store landed inside vCPU 1's fault: one retry each");
        rig.assertConsistent(where + " after the rounds");
    }
}
