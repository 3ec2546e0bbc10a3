package org.shadowbox.guest;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The booted guest kernel as a scenario from another bundle may use it: its page allocator and
 * its accesses to guest memory through the kernel's direct map, each a guest access (a
 * supervisor read or write on a vCPU, which the MMU traps, emulates or lets through as a real
 * guest's). A GPU driver model writes its GPU page tables this way.
 */
@ProviderType
public interface GuestKernel {
    /** The guest's paging mode: "64", "pae" or "32". */
    String paging();

    int vcpus();

    /** A free guest page (gfn), not zeroed; a one-line VmException when guest memory is exhausted. */
    long allocPage();

    /** Returns a page from {@link #allocPage()} to the allocator. */
    void freePage(long gfn);

    /** The guest-virtual address at which the kernel sees {@code gpa}. */
    long directMap(long gpa);

    /** A kernel load of {@code size} (1, 2, 4, 8) bytes at {@code gpa} on vCPU {@code vcpu}. */
    long read(int vcpu, long gpa, int size);

    /** A kernel store of {@code size} bytes at {@code gpa} on vCPU {@code vcpu}. */
    void write(int vcpu, long gpa, long value, int size);

    /** The guest-side counts so far. */
    GuestCounts counts();
}
