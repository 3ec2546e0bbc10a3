package org.shadowbox.mmu.internal.tdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.vm.Register;

/**
 * Rule (f) of {@link TdpChecker} beside a vCPU's own thread, which under TDP fills its TLB by
 * lockless walks and flushes it (CR3 loads, INVLPG, remote flushes it takes) without the MMU
 * lock the checker holds. Seeded, three threads: the vCPU switches between two address spaces,
 * invalidates and reads; a zapper zaps every TDP table now and then (its remote flush); this
 * thread runs the checker in a loop. Every report is false.
 */
class TdpCheckerRaceTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long PML4_B = 0x20, PDPT_B = 0x21, PD_B = 0x22, PT_B = 0x23, DATA_B = 0x300;
    private static final long GVA = 0x40_0000L;
    private static final int PAGES = 16;
    private static final long DIRTY = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;

    private static void space(TdpRig rig, long pml4, long pdpt, long pd, long pt, long data) {
        rig.mem.write(pml4 << 12, (pdpt << 12) | DIRTY, 8);
        rig.mem.write(pdpt << 12, (pd << 12) | DIRTY, 8);
        rig.mem.write((pd << 12) + 16, (pt << 12) | DIRTY, 8);
        for (int p = 0; p < PAGES; p++) {
            rig.mem.write((pt << 12) + 8L * p, ((data + p) << 12) | DIRTY, 8);
            rig.mem.write((data + p) << 12, data + p, 8);
        }
    }

    @Test
    void checksBesideFillsFlushesAndZapsReportNothing() throws Exception {
        long seed = Long.getLong("shadowbox.seed", System.nanoTime());
        int accesses = Integer.getInteger("shadowbox.checkerRace.accesses", 50_000);
        TdpRig rig = new TdpRig("64");
        space(rig, PML4, PDPT, PD, PT, DATA);
        space(rig, PML4_B, PDPT_B, PD_B, PT_B, DATA_B);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        TdpVcpu cpu = rig.cpu(0);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread vcpu = new Thread(() -> {
            java.util.Random rnd = new java.util.Random(seed);
            AccessResult r = new AccessResult();
            long data = DATA;
            try {
                for (int n = 0; n < accesses; n++) {
                    int op = rnd.nextInt(16);
                    if (op == 0) {
                        boolean b = rnd.nextBoolean();
                        cpu.writeCr3((b ? PML4_B : PML4) << 12);
                        data = b ? DATA_B : DATA;
                    } else if (op == 1) {
                        cpu.invlpg(GVA);
                    }
                    int p = rnd.nextInt(PAGES);
                    if (!cpu.read(GVA + ((long) p << 12), 8, false, r).ok() || r.value != data + p) {
                        throw new AssertionError("read of page " + p + ": " + r);
                    }
                }
            } catch (Throwable e) {
                failed.set(e);
            } finally {
                done.set(true);
            }
        }, "vcpu0");
        Thread zapper = new Thread(() -> {
            while (!done.get()) {
                rig.mmu.zapAll();
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
        }, "zapper");
        vcpu.start();
        zapper.start();
        List<String> reports = new ArrayList<>();
        int checks = 0;
        while (!done.get()) {
            List<String> v = rig.check();
            checks++;
            if (!v.isEmpty() && reports.size() < 5) {
                reports.addAll(v);
            }
        }
        vcpu.join();
        zapper.join();
        if (failed.get() != null) {
            throw new AssertionError("-Dshadowbox.seed=" + seed, failed.get());
        }
        assertTrue(checks > 0);
        assertEquals(List.of(), reports, "-Dshadowbox.seed=" + seed + ": " + checks + " checks beside " + accesses
                + " accesses");
        assertEquals(List.of(), rig.check(), "after the run");

        // The rule still bites once the vCPU is quiet: an entry naming another frame is reported.
        AccessResult r = new AccessResult();
        assertTrue(cpu.read(GVA, 8, false, r).ok());
        TdpTlb tlb = cpu.tlb;
        int i = tlb.lookup(GVA >>> 12);
        tlb.beginUpdate();
        tlb.fill(GVA >>> 12, tlb.gfn(i), tlb.pfn(i) + 1, tlb.bits(i), tlb.page(i), tlb.epoch(i),
                rig.vm.vcpu(0).get(Register.CR0), rig.vm.vcpu(0).get(Register.CR4));
        tlb.endUpdate();
        List<String> stale = rig.check();
        assertEquals(1, stale.size(), stale.toString());
        assertTrue(stale.get(0).startsWith("(f) vCPU 0 TLB entry for gva 0x400000 is stale: it names pfn"), stale.get(0));
    }
}
