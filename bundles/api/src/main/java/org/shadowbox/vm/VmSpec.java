package org.shadowbox.vm;

import java.util.ArrayList;
import java.util.List;

/**
 * What a VM is made of when it is created.
 *
 * @param name       unique name, {@code [A-Za-z0-9_.-]{1,32}}
 * @param vcpus      number of vCPUs, 1 to {@link #MAX_VCPUS}
 * @param slots      initial memslots (may be empty)
 * @param maxPhyAddr guest MAXPHYADDR in bits (CPUID 0x80000008), 32 to 52; gfns at or above
 *                   {@code 1 << (maxPhyAddr - 12)} are refused
 */
public record VmSpec(String name, int vcpus, List<SlotSpec> slots, int maxPhyAddr) {

    /** KVM_MAX_VCPUS is larger; a sandbox needs far fewer. */
    public static final int MAX_VCPUS = 64;
    /** The x86 default MAXPHYADDR that Shadowbox uses (a modern Intel host). */
    public static final int DEFAULT_MAXPHYADDR = 46;
    /** The 640 KiB of conventional memory below the legacy VGA/BIOS hole, in pages. */
    public static final long PC_LOW_PAGES = 0xa0;
    /** Where RAM resumes above the hole: 1 MiB. */
    public static final long PC_HIGH_BASE_GFN = 0x100;

    public VmSpec {
        if (name == null || !name.matches("[A-Za-z0-9_.-]{1,32}")) {
            throw new VmException("bad VM name '" + name + "': use 1 to 32 of A-Z a-z 0-9 _ . -");
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new VmException("bad vCPU count " + vcpus + ": accepted 1 to " + MAX_VCPUS);
        }
        if (maxPhyAddr < 32 || maxPhyAddr > 52) {
            throw new VmException("bad MAXPHYADDR " + maxPhyAddr + ": accepted 32 to 52 bits");
        }
        slots = List.copyOf(slots);
    }

    /**
     * A PC-style layout of {@code memoryBytes} of RAM: slot 0 holds the 640 KiB below the
     * legacy hole (gfn 0x0 to 0x9f), slot 1 the rest from 1 MiB up, so that gfn 0x100 to
     * {@code memoryBytes / 4096 - 1} is RAM. Memory must be a multiple of 4 KiB and more
     * than 1 MiB.
     */
    public static VmSpec pc(String name, long memoryBytes, int vcpus) {
        if (memoryBytes <= (PC_HIGH_BASE_GFN << 12) || (memoryBytes & 0xfff) != 0) {
            throw new VmException("bad memory size " + memoryBytes
                    + ": accepted a multiple of 4 KiB above 1 MiB (e.g. 64M, 1G, 1T)");
        }
        List<SlotSpec> slots = new ArrayList<>();
        slots.add(new SlotSpec(0, 0, PC_LOW_PAGES, 0));
        slots.add(new SlotSpec(1, PC_HIGH_BASE_GFN, (memoryBytes >>> 12) - PC_HIGH_BASE_GFN, 0));
        return new VmSpec(name, vcpus, slots, DEFAULT_MAXPHYADDR);
    }
}
