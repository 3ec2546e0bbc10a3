package org.shadowbox.guest.internal.kernel;

import org.shadowbox.guest.GuestCounts;

/** The guest's live counters (plain fields: the model runs on one thread). */
public final class Counters {
    long processes, forks, execs, exits, contextSwitches;
    long userAccesses, kernelAccesses;
    long pageFaults, anonFaults, zeroPageFaults, fileFaults, cowFaults, reuseFaults, spuriousFaults;
    long pteWrites, invlpgs, cr3Writes, tlbFlushes;
    long mmaps, munmaps, mprotects, brks;
    long ptPagesAllocated, ptPagesFreed, ptPagesReusedAsData, dataPagesAllocated, pagesFreed, fileFills;

    public long accesses() {
        return userAccesses + kernelAccesses;
    }

    public long exits() {
        return exits;
    }

    public GuestCounts snapshot() {
        return new GuestCounts(processes, forks, execs, exits, contextSwitches, accesses(), userAccesses,
                kernelAccesses, pageFaults, anonFaults, zeroPageFaults, fileFaults, cowFaults, reuseFaults,
                spuriousFaults, pteWrites, invlpgs, cr3Writes, tlbFlushes, mmaps, munmaps, mprotects, brks,
                ptPagesAllocated, ptPagesFreed, ptPagesReusedAsData, dataPagesAllocated, pagesFreed, fileFills);
    }
}
