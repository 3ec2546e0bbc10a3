package org.shadowbox.guest.internal.kernel;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Register;

/**
 * Checks the guest's own view of its memory: every tracked word of every page the guest keeps
 * data in (page cache, anonymous pages, the zero page) read back through a probe vCPU at its
 * direct-map address must hold what the guest believes it holds; every page of a live process
 * read through its own tables must reach the page the kernel mapped there. With no process
 * left, nothing may have leaked: no anonymous page, no page table beyond the kernel's own.
 */
public final class Verifier {
    private Verifier() {
    }

    /**
     * Verifies through {@code probe} (a {@link org.shadowbox.mmu.reference.BareMetalCpu}
     * inspector, or a vCPU of the run whose CR3 is the kernel's) and returns the checksum of the
     * words read.
     *
     * @throws GuestCorruption naming the first word or page found wrong
     */
    public static long verify(Kernel k, GuestCpu probe, boolean setRegisters) {
        if (setRegisters) {
            probe.writeRegister(Register.CR0, PageTableFormat.CR0_PAGING);
            probe.writeRegister(Register.CR4, k.f.cr4());
            probe.writeRegister(Register.EFER, k.f.efer());
            probe.writeRegister(Register.CR3, k.f.cr3(k.kernelPgd));
        }
        long sum = 0x6a09_e667_f3bc_c908L;
        for (int g = 0; g < k.phys.frames; g++) {
            byte u = k.phys.use[g];
            if (u != PhysMem.ANON && u != PhysMem.FILE && u != PhysMem.ZERO) {
                continue;
            }
            for (int s = 0; s < MemoryImage.SLOTS; s++) {
                long gpa = ((long) g << 12) + (long) s * MemoryImage.SLOT_BYTES;
                if (!probe.read(k.km.address(gpa), 8, false)) {
                    throw new GuestCorruption("reading gpa 0x" + Long.toHexString(gpa) + " through the direct map faulted (error code 0x"
                            + Integer.toHexString(probe.errorCode()) + ")");
                }
                long want = k.image.get(g, s);
                if (probe.value() != want || probe.gpa() != gpa) {
                    throw new GuestCorruption("gpa 0x" + Long.toHexString(gpa) + " holds 0x" + Long.toHexString(probe.value())
                            + " (read at gpa 0x" + Long.toHexString(probe.gpa()) + "), the guest stored 0x" + Long.toHexString(want));
                }
                sum = mix(sum ^ ((long) g << 3 | s)) ^ want;
            }
        }
        if (setRegisters) {
            for (Task t : k.tasks) {
                if (!t.exited()) {
                    verifyTask(k, t, probe);
                }
            }
            probe.writeRegister(Register.CR3, k.f.cr3(k.kernelPgd));
        }
        if (k.live == 0) {
            checkNoLeaks(k);
        }
        return sum;
    }

    /** Every page of {@code t}'s areas read through its own pgd: mapped pages reach their frame, others fault. */
    static void verifyTask(Kernel k, Task t, GuestCpu probe) {
        probe.writeRegister(Register.CR3, k.f.cr3(t.mm.pgd));
        for (int ai = 0; ai < t.mm.nAreas; ai++) {
            Area a = t.mm.areas[ai];
            for (int p = 0; p < a.pages; p++) {
                long va = a.start + ((long) p << 12);
                boolean ok = probe.read(va, 8, true);
                int g = a.frame[p];
                if (g < 0 ? ok : !ok || probe.gpa() != ((long) g << 12) || probe.value() != k.image.get(g, 0)) {
                    throw new GuestCorruption(t + " page 0x" + Long.toHexString(va) + " of " + a + ": the kernel mapped gfn 0x"
                            + Integer.toHexString(g) + ", the tables give " + (ok ? "gpa 0x" + Long.toHexString(probe.gpa())
                            + " value 0x" + Long.toHexString(probe.value()) : "a fault"));
                }
            }
        }
    }

    private static void checkNoLeaks(Kernel k) {
        int anon = k.phys.count(PhysMem.ANON);
        long tables = k.counters.ptPagesAllocated - k.counters.ptPagesFreed;
        if (anon != 0 || tables != k.bootTablePages) {
            throw new GuestCorruption("after every process exited " + anon + " anonymous pages and "
                    + (tables - k.bootTablePages) + " process page-table pages are still allocated");
        }
    }

    static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51_afd7_ed55_8ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ce_b9fe_1a85_ec53L;
        return z ^ (z >>> 33);
    }
}
