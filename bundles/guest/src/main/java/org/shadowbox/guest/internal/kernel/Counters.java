package org.shadowbox.guest.internal.kernel;

import org.shadowbox.guest.GuestCounts;

/**
 * The guest's live counters, each changed under one rule, so that no counter is shared on a
 * path that two vCPUs run at once:
 * <ul>
 * <li>the process tree's (processes, forks, execs, exits): under the tasklist lock
 * ({@link Kernel#tasklist});</li>
 * <li>the page allocator's (page-table pages, data pages, frees): per host thread's page list
 * ({@link Alloc}), under that list's lock ({@link PhysMem});</li>
 * <li>the page cache's (fills): under its lock ({@link PageCache});</li>
 * <li>everything an address space's own operations count (faults, pte writes, mmap, munmap,
 * mprotect, brk) and every access ({@link Cpu}): per vCPU, changed only by the thread that drives
 * that vCPU, with whatever locks it holds (user accesses take none).</li>
 * </ul>
 * {@link #snapshot} sums them; it is exact once the vCPU threads are done (joined). Read while
 * they run ({@link #accesses} for a progress bar) the per-vCPU figures are an estimate.
 */
public final class Counters {
    long processes, forks, execs, exits;
    long fileFills;
    /** Per vCPU, by vCPU index. */
    final Cpu[] cpu;
    /** The page allocator's, per host thread's page list ({@link PhysMem}), by host thread index. */
    final Alloc[] alloc;

    Counters(int vcpus, int threads) {
        cpu = new Cpu[vcpus];
        for (int i = 0; i < vcpus; i++) {
            cpu[i] = new Cpu();
        }
        alloc = new Alloc[threads];
        for (int i = 0; i < threads; i++) {
            alloc[i] = new Alloc();
        }
    }

    /**
     * The page allocator's counters of one host thread's page list, changed under that list's
     * lock; padded as {@link Cpu} is, since two threads allocate at once.
     */
    static final class Alloc {
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6, p7;
        long ptPagesAllocated, ptPagesFreed, ptPagesReusedAsData, dataPagesAllocated, pagesFreed;
        @SuppressWarnings("unused")
        private long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    /** Page-table pages allocated so far, every list's summed. */
    long ptPagesAllocated() {
        long n = 0;
        for (Alloc a : alloc) {
            n += a.ptPagesAllocated;
        }
        return n;
    }

    /** Page-table pages freed so far, every list's summed. */
    long ptPagesFreed() {
        long n = 0;
        for (Alloc a : alloc) {
            n += a.ptPagesFreed;
        }
        return n;
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
        long pageFaults, anonFaults, zeroPageFaults, fileFaults, cowFaults, reuseFaults, spuriousFaults;
        long pteWrites, mmaps, munmaps, mprotects, brks;
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
        Cpu s = new Cpu();
        for (Cpu c : cpu) {
            s.userAccesses += c.userAccesses;
            s.kernelAccesses += c.kernelAccesses;
            s.contextSwitches += c.contextSwitches;
            s.cr3Writes += c.cr3Writes;
            s.tlbFlushes += c.tlbFlushes;
            s.invlpgs += c.invlpgs;
            s.pageFaults += c.pageFaults;
            s.anonFaults += c.anonFaults;
            s.zeroPageFaults += c.zeroPageFaults;
            s.fileFaults += c.fileFaults;
            s.cowFaults += c.cowFaults;
            s.reuseFaults += c.reuseFaults;
            s.spuriousFaults += c.spuriousFaults;
            s.pteWrites += c.pteWrites;
            s.mmaps += c.mmaps;
            s.munmaps += c.munmaps;
            s.mprotects += c.mprotects;
            s.brks += c.brks;
        }
        Alloc a = new Alloc();
        for (Alloc x : alloc) {
            a.ptPagesAllocated += x.ptPagesAllocated;
            a.ptPagesFreed += x.ptPagesFreed;
            a.ptPagesReusedAsData += x.ptPagesReusedAsData;
            a.dataPagesAllocated += x.dataPagesAllocated;
            a.pagesFreed += x.pagesFreed;
        }
        return new GuestCounts(processes, forks, execs, exits, s.contextSwitches, s.userAccesses + s.kernelAccesses,
                s.userAccesses, s.kernelAccesses, s.pageFaults, s.anonFaults, s.zeroPageFaults, s.fileFaults, s.cowFaults,
                s.reuseFaults, s.spuriousFaults, s.pteWrites, s.invlpgs, s.cr3Writes, s.tlbFlushes, s.mmaps, s.munmaps,
                s.mprotects, s.brks, a.ptPagesAllocated, a.ptPagesFreed, a.ptPagesReusedAsData, a.dataPagesAllocated,
                a.pagesFreed, fileFills);
    }
}
