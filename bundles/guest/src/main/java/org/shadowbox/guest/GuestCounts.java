package org.shadowbox.guest;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the guest did, counted by the guest itself (the hypervisor's counts are the MMU's).
 * Identical run to run for one scenario, scale and seed, on any MMU.
 *
 * @param processes          processes created (the first one and every fork)
 * @param forks              fork()s
 * @param execs              execve()s
 * @param exits              exit()s
 * @param contextSwitches    a vCPU switching to another process
 * @param accesses           guest memory accesses, user and kernel
 * @param userAccesses       user-mode reads, writes and fetches (faulting tries included)
 * @param kernelAccesses     supervisor accesses through the direct map (table edits, page clears and copies)
 * @param pageFaults         page faults the guest's handler served
 * @param anonFaults         a new zeroed anonymous page mapped on a write
 * @param zeroPageFaults     the shared zero page mapped on a read of untouched anonymous memory
 * @param fileFaults         a page-cache page mapped
 * @param cowFaults          a write to a shared (copy-on-write, zero or file) page copied it
 * @param reuseFaults        a write to a read-only page the process alone maps made it writable again
 * @param spuriousFaults     faults the guest tables did not justify (0 on bare metal)
 * @param pteWrites          page-table entries written (set or cleared), at every level
 * @param invlpgs            INVLPG instructions
 * @param cr3Writes          CR3 loads (switches and full TLB flushes)
 * @param tlbFlushes         full TLB flushes of the current address space (a CR3 reload)
 * @param mmaps              mmap()s
 * @param munmaps            munmap()s
 * @param mprotects          mprotect()s
 * @param brks               brk()s that grew a heap
 * @param ptPagesAllocated   page-table pages allocated (process tables, boot tables)
 * @param ptPagesFreed       page-table pages given back to the allocator
 * @param ptPagesReusedAsData pages allocated as data whose previous use was a page table
 * @param dataPagesAllocated anonymous and page-cache pages allocated
 * @param pagesFreed         pages of any kind given back to the allocator
 * @param fileFills          page-cache pages filled from "disk"
 */
public record GuestCounts(long processes, long forks, long execs, long exits, long contextSwitches, long accesses,
        long userAccesses, long kernelAccesses, long pageFaults, long anonFaults, long zeroPageFaults,
        long fileFaults, long cowFaults, long reuseFaults, long spuriousFaults, long pteWrites, long invlpgs,
        long cr3Writes, long tlbFlushes, long mmaps, long munmaps, long mprotects, long brks,
        long ptPagesAllocated, long ptPagesFreed, long ptPagesReusedAsData, long dataPagesAllocated,
        long pagesFreed, long fileFills) {

    /** Every count by its component name (snake case: {@code pte_writes}), in declaration order. */
    public Map<String, Long> asMap() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (RecordComponent c : GuestCounts.class.getRecordComponents()) {
            try {
                out.put(c.getName().replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT),
                        (Long) c.getAccessor().invoke(this));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("record accessor " + c.getName() + " failed", e);
            }
        }
        return out;
    }
}
