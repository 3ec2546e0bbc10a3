package org.shadowbox.guest.internal.kernel;

import org.shadowbox.guest.GuestCounts;

/**
 * The guest's live counters. Two kinds, by who may change them:
 * <ul>
 * <li>the kernel's own (processes, faults, pte writes, pages ...): plain fields changed only with
 * the kernel lock held ({@link Kernel#lock}), so one copy serves every vCPU;</li>
 * <li>the per-vCPU ones ({@link Cpu}: accesses, context switches, CR3 loads, INVLPGs, TLB
 * flushes), changed only by the thread that drives that vCPU, with or without the kernel lock
 * (user accesses take none), so no counter is shared on the hot path.</li>
 * </ul>
 * {@link #snapshot} sums them; it is exact once the vCPU threads are done (joined). Read while
 * they run ({@link #accesses} for a progress bar) the per-vCPU figures are an estimate.
 */
public final class Counters {
    long processes, forks, execs, exits;
    long pageFaults, anonFaults, zeroPageFaults, fileFaults, cowFaults, reuseFaults, spuriousFaults;
    long pteWrites;
    long mmaps, munmaps, mprotects, brks;
    long ptPagesAllocated, ptPagesFreed, ptPagesReusedAsData, dataPagesAllocated, pagesFreed, fileFills;
    /** Per vCPU, by vCPU index. */
    final Cpu[] cpu;

    Counters(int vcpus) {
        cpu = new Cpu[vcpus];
        for (int i = 0; i < vcpus; i++) {
            cpu[i] = new Cpu();
        }
    }

    /**
     * One vCPU's counters, changed only by its own thread. Padded so that two vCPUs' counters
     * never share a cache line (64 bytes either side), which would make the lock-free user path
     * of two threads contend on a line neither of them shares.
     */
    static final class Cpu {
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6, p7;
        long userAccesses, kernelAccesses, contextSwitches, cr3Writes, tlbFlushes, invlpgs;
        @SuppressWarnings("unused")
        private long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    public long accesses() {
        long n = 0;
        for (Cpu c : cpu) {
            n += c.userAccesses + c.kernelAccesses;
        }
        return n;
    }

    public long exits() {
        return exits;
    }

    public GuestCounts snapshot() {
        long user = 0, kernel = 0, switches = 0, cr3 = 0, flushes = 0, invlpg = 0;
        for (Cpu c : cpu) {
            user += c.userAccesses;
            kernel += c.kernelAccesses;
            switches += c.contextSwitches;
            cr3 += c.cr3Writes;
            flushes += c.tlbFlushes;
            invlpg += c.invlpgs;
        }
        return new GuestCounts(processes, forks, execs, exits, switches, user + kernel, user, kernel, pageFaults,
                anonFaults, zeroPageFaults, fileFaults, cowFaults, reuseFaults, spuriousFaults, pteWrites, invlpg, cr3,
                flushes, mmaps, munmaps, mprotects, brks, ptPagesAllocated, ptPagesFreed, ptPagesReusedAsData,
                dataPagesAllocated, pagesFreed, fileFills);
    }
}
