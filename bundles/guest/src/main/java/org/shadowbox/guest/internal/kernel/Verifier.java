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
        checkFrames(k, probe, 0, k.phys.frames);
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
        return checksum(k);
    }

    /**
     * {@link #verify} with the guest's data pages split into {@code parts} runs of frames of
     * about as many pages each, each checked on its own host thread (part 0 on this one): first
     * every part through its bare-metal inspector ({@code inspectors[i]}, set up here with the
     * kernel's registers), then the processes' views and the leak check as {@link #verify} makes
     * them, then every part through a vCPU of the run ({@code cpus[i]}, whose CR3 is the kernel's;
     * the run's threads are done). This is the sandbox's check, not guest work: every page is still
     * read through both, and on a mismatch the verdict is the one {@link #verify} would give, the
     * lowest wrong word of the first pass that has one.
     *
     * @throws GuestCorruption naming the first word or page found wrong
     */
    public static long verifyInParts(Kernel k, GuestCpu[] inspectors, GuestCpu[] cpus, int parts) {
        int[] bound = split(k, parts);
        inParts(parts, i -> {
            GuestCpu probe = inspectors[i];
            probe.writeRegister(Register.CR0, PageTableFormat.CR0_PAGING);
            probe.writeRegister(Register.CR4, k.f.cr4());
            probe.writeRegister(Register.EFER, k.f.efer());
            probe.writeRegister(Register.CR3, k.f.cr3(k.kernelPgd));
            checkFrames(k, probe, bound[i], bound[i + 1]);
        });
        for (Task t : k.tasks) {
            if (!t.exited()) {
                verifyTask(k, t, inspectors[0]);
            }
        }
        inspectors[0].writeRegister(Register.CR3, k.f.cr3(k.kernelPgd));
        if (k.live == 0) {
            checkNoLeaks(k);
        }
        inParts(parts, i -> checkFrames(k, cpus[i], bound[i], bound[i + 1]));
        return checksum(k);
    }

    /** Frame bounds of {@code parts} runs holding about as many data pages each: part i is {@code [bound[i], bound[i + 1])}. */
    static int[] split(Kernel k, int parts) {
        long data = 0;
        for (int g = 0; g < k.phys.frames; g++) {
            data += isData(k.phys.use[g]) ? 1 : 0;
        }
        int[] bound = new int[parts + 1];
        bound[parts] = k.phys.frames;
        long seen = 0;
        int part = 1;
        for (int g = 0; g < k.phys.frames && part < parts; g++) {
            if (isData(k.phys.use[g]) && seen++ == data * part / parts) {
                bound[part++] = g;
            }
        }
        while (part < parts) {
            bound[part++] = k.phys.frames;
        }
        return bound;
    }

    /**
     * Runs {@code part} for 0 to {@code parts - 1}, part 0 on this thread and each other on a
     * thread of its own, and returns when all are done; then rethrows the failure of the lowest
     * part that failed (the parts are runs of frames in order, so that is the lowest wrong frame).
     */
    private static void inParts(int parts, java.util.function.IntConsumer part) {
        Throwable[] failed = new Throwable[parts];
        Thread[] others = new Thread[parts - 1];
        for (int i = 1; i < parts; i++) {
            int me = i;
            others[i - 1] = new Thread(() -> {
                try {
                    part.accept(me);
                } catch (Throwable e) { // every failure reaches the caller
                    failed[me] = e;
                }
            }, "shadowbox-guest-verify-" + i);
            others[i - 1].setDaemon(true);
            others[i - 1].start();
        }
        try {
            part.accept(0);
        } catch (Throwable e) {
            failed[0] = e;
        }
        if (HostThreads.joinAll(others)) { // the parts end on their own
            Thread.currentThread().interrupt();
        }
        for (Throwable f : failed) {
            HostThreads.rethrow(f);
        }
    }

    private static boolean isData(byte u) {
        return u == PhysMem.ANON || u == PhysMem.FILE || u == PhysMem.ZERO;
    }

    /**
     * Every tracked word of the data pages among frames {@code [from, to)}, read through
     * {@code probe} at its direct-map address, must hold what the guest's image says.
     *
     * @throws GuestCorruption naming the first word found wrong
     */
    static void checkFrames(Kernel k, GuestCpu probe, int from, int to) {
        for (int g = from; g < to; g++) {
            if (!isData(k.phys.use[g])) {
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
            }
        }
    }

    /** The checksum of the guest's image: every tracked word of every data page, in frame order. */
    static long checksum(Kernel k) {
        long sum = 0x6a09_e667_f3bc_c908L;
        for (int g = 0; g < k.phys.frames; g++) {
            if (!isData(k.phys.use[g])) {
                continue;
            }
            for (int s = 0; s < MemoryImage.SLOTS; s++) {
                sum = mix(sum ^ ((long) g << 3 | s)) ^ k.image.get(g, s);
            }
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
        long tables = k.counters.ptPagesAllocated() - k.counters.ptPagesFreed();
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
