package org.shadowbox.vm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a VM is made of when it is created.
 *
 * @param name       unique name, {@code [A-Za-z0-9_.-]{1,32}}
 * @param vcpus      number of vCPUs, 1 to {@link #MAX_VCPUS}
 * @param slots      initial memslots (may be empty)
 * @param maxPhyAddr guest MAXPHYADDR in bits (CPUID 0x80000008), 32 to 52; gfns at or above
 *                   {@code 1 << (maxPhyAddr - 12)} are refused
 * @param options    how the VM is virtualized: {@value #MMU} ({@value #MMU_SHADOW} or
 *                   {@value #MMU_TDP}), {@value #POLICY} ({@value #POLICY_PAGETRACK} or
 *                   {@value #POLICY_LEGACY}), {@value #PAGING} (the mode the vCPUs start in:
 *                   {@value #PAGING_64}, {@value #PAGING_PAE}, {@value #PAGING_32} or
 *                   {@value #PAGING_OFF}); absent keys take the first value named
 */
public record VmSpec(String name, int vcpus, List<SlotSpec> slots, int maxPhyAddr, Map<String, String> options) {

    /** KVM_MAX_VCPUS is larger; a sandbox needs far fewer. */
    public static final int MAX_VCPUS = 64;
    /** The x86 default MAXPHYADDR that Shadowbox uses (a modern Intel host). */
    public static final int DEFAULT_MAXPHYADDR = 46;
    /** The 640 KiB of conventional memory below the legacy VGA/BIOS hole, in pages. */
    public static final long PC_LOW_PAGES = 0xa0;
    /** Where RAM resumes above the hole: 1 MiB. */
    public static final long PC_HIGH_BASE_GFN = 0x100;

    /** Option: the MMU that virtualizes guest memory. */
    public static final String MMU = "mmu";
    /** Shadow paging: the hypervisor shadows the guest's page tables (the seed's setting). */
    public static final String MMU_SHADOW = "shadow";
    /** Two-dimensional paging (EPT/NPT): the guest walks its own tables in hardware. */
    public static final String MMU_TDP = "tdp";
    /** Option: how the MMU keeps shadowed guest page tables write-protected. */
    public static final String POLICY = "policy";
    /** Through page track, as KVM since the 2016 series. */
    public static final String POLICY_PAGETRACK = "pagetrack";
    /** As KVM before the series: no tracking counts for shadowed tables (the seed's "before"). */
    public static final String POLICY_LEGACY = "legacy";
    /** Option: the paging mode the vCPUs start in. */
    public static final String PAGING = "paging";
    /** 4-level paging: CR0.PG, CR4.PAE, EFER.LME, LMA and NXE set. */
    public static final String PAGING_64 = "64";
    /** PAE paging: CR0.PG, CR4.PAE, EFER.NXE. */
    public static final String PAGING_PAE = "pae";
    /** 32-bit paging with 4 MiB pages: CR0.PG, CR4.PSE. */
    public static final String PAGING_32 = "32";
    /** The architectural reset state: no paging. */
    public static final String PAGING_OFF = "off";

    private static final Map<String, List<String>> OPTIONS = Map.of(
            MMU, List.of(MMU_SHADOW, MMU_TDP),
            POLICY, List.of(POLICY_PAGETRACK, POLICY_LEGACY),
            PAGING, List.of(PAGING_64, PAGING_PAE, PAGING_32, PAGING_OFF));

    /** A VM with default options. */
    public VmSpec(String name, int vcpus, List<SlotSpec> slots, int maxPhyAddr) {
        this(name, vcpus, slots, maxPhyAddr, Map.of());
    }

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
        Map<String, String> all = new LinkedHashMap<>();
        for (String key : List.of(MMU, POLICY, PAGING)) {
            all.put(key, OPTIONS.get(key).get(0));
        }
        for (Map.Entry<String, String> e : options.entrySet()) {
            List<String> accepted = OPTIONS.get(e.getKey());
            if (accepted == null) {
                throw new VmException("unknown VM option '" + e.getKey() + "': accepted mmu, policy, paging");
            }
            if (!accepted.contains(e.getValue())) {
                throw new VmException("bad " + e.getKey() + " '" + e.getValue() + "': accepted "
                        + String.join(", ", accepted));
            }
            all.put(e.getKey(), e.getValue());
        }
        options = java.util.Collections.unmodifiableMap(all);
    }

    /** The value of option {@code key} (never null for {@value #MMU}, {@value #POLICY}, {@value #PAGING}). */
    public String option(String key) {
        return options.get(key);
    }

    /** This spec with {@code key} set to {@code value} (checked). */
    public VmSpec with(String key, String value) {
        Map<String, String> next = new LinkedHashMap<>(options);
        next.put(key, value);
        return new VmSpec(name, vcpus, slots, maxPhyAddr, next);
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
