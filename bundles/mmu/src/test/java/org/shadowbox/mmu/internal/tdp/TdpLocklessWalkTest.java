package org.shadowbox.mmu.internal.tdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.vm.Register;

/**
 * The processor's TDP walk on a TLB miss reads the table without the MMU lock: while one vCPU's
 * thread walks (every access a TLB miss: it invalidates its TLB before each), another thread
 * zaps every table again and again ({@code kvm_mmu_zap_all}). A table the walker may still hold
 * must not be freed, nor its id reused, before the zap's remote flush has waited for the walk:
 * otherwise the walk reads a freed table (null) or another gpa's table, and the read returns
 * another page's value. Every read must return its own page's value, and the checker must find
 * nothing at the end. A smoke test of many races; {@link
 * #aZapWhileAWalkHoldsAChildIdFreesNothingUntilTheWalkEnds} puts one in its window.
 */
class TdpLocklessWalkTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    private static final int PAGES = 64;
    private static final long DIRTY = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;

    @Test
    void walksWithoutTheLockNeverSeeAFreedOrReusedTable() throws Exception {
        TdpRig rig = new TdpRig("64");
        rig.mem.write(PML4 << 12, (PDPT << 12) | DIRTY, 8);
        rig.mem.write(PDPT << 12, (PD << 12) | DIRTY, 8);
        rig.mem.write((PD << 12) + 16, (PT << 12) | DIRTY, 8);
        for (int p = 0; p < PAGES; p++) {
            rig.mem.write((PT << 12) + 8L * p, ((DATA + p) << 12) | DIRTY, 8);
            rig.mem.write((DATA + p) << 12, 0x1000 + p, 8);
        }
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        TdpVcpu cpu = rig.cpu(0);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        long[] reads = new long[1];
        Thread walker = new Thread(() -> {
            AccessResult r = new AccessResult();
            try {
                for (int i = 0; !stop.get(); i++) {
                    int p = (i * 37) & (PAGES - 1);
                    cpu.invlpg(GVA); // the whole TLB: the read below walks
                    if (!cpu.read(GVA + ((long) p << 12), 8, false, r).ok() || r.value != 0x1000 + p) {
                        failure.compareAndSet(null, "read " + i + " of page " + p + ": ok " + (r.exception == 0)
                                + ", value 0x" + Long.toHexString(r.value));
                        return;
                    }
                    reads[0]++;
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, "the walker threw " + t);
            }
        }, "tdp-walker");
        walker.start();
        long zaps = 0;
        long end = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < end && failure.get() == null) {
            rig.mmu.zapAll();
            zaps++;
            // a pause, so that the walker's fault can fix a mapping and its retry use it before
            // the next zap (zapping back to back would undo every fix: MAX_RETRIES ends the access)
            java.util.concurrent.locks.LockSupport.parkNanos(200_000);
        }
        stop.set(true);
        walker.join(10_000);
        assertNull(failure.get(), failure.get());
        assertTrue(reads[0] > 0 && zaps > 0, reads[0] + " reads, " + zaps + " zaps");
        assertEquals(0, rig.check().size(), rig.check().toString());
    }

    /**
     * The race put in its window: the walk holds a child id while another thread zaps every
     * table. The zap's flush waits for the walk; the tables stay until it ends, so the walk reads
     * the zapped (zeroed) entries, faults, and the read is served correctly after the zap.
     */
    @Test
    void aZapWhileAWalkHoldsAChildIdFreesNothingUntilTheWalkEnds() throws Exception {
        TdpRig rig = new TdpRig("64");
        rig.mem.write(PML4 << 12, (PDPT << 12) | DIRTY, 8);
        rig.mem.write(PDPT << 12, (PD << 12) | DIRTY, 8);
        rig.mem.write((PD << 12) + 16, (PT << 12) | DIRTY, 8);
        rig.mem.write(PT << 12, (DATA << 12) | DIRTY, 8);
        rig.mem.write(DATA << 12, 0x1234, 8);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        TdpVcpu cpu = rig.cpu(0);
        AccessResult r = new AccessResult();
        assertTrue(cpu.read(GVA, 8, false, r).ok()); // the TDP table is built
        AtomicBoolean once = new AtomicBoolean();
        Thread[] zapper = new Thread[1];
        cpu.duringWalk = () -> {
            if (once.compareAndSet(false, true)) {
                zapper[0] = new Thread(rig.mmu::zapAll, "zapper");
                zapper[0].start();
                try {
                    Thread.sleep(200); // the zapper zaps and then waits for this walk
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        cpu.invlpg(GVA);
        AtomicReference<String> failure = new AtomicReference<>();
        Thread walker = new Thread(() -> {
            try {
                if (!cpu.read(GVA, 8, false, r).ok() || r.value != 0x1234) {
                    failure.set("ok " + (r.exception == 0) + ", value 0x" + Long.toHexString(r.value));
                }
            } catch (Throwable t) {
                failure.set("the walker threw " + t);
            }
        }, "tdp-walker");
        walker.start();
        walker.join(10_000);
        zapper[0].join(10_000);
        assertNull(failure.get(), failure.get());
        assertEquals(0, rig.check().size(), rig.check().toString());
    }
}
