package org.shadowbox.guest.internal;

import java.util.List;

import org.shadowbox.guest.GuestPages;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.spi.PlatformMemslot;

/**
 * "Does this scenario fit this VM", before the guest boots: a scenario's {@link GuestPages}
 * against the VM's usable guest RAM and the room its memory budgets leave. What a run can make
 * resident: the guest frames its guest kernel hands out (the first {@code most} frames of the
 * allocator's order, boot included; those already resident cost nothing), the guest model's
 * bookkeeping per frame ({@link Kernel#FRAME_BOOKKEEPING_BYTES}, charged while the run lasts),
 * and the MMU's metadata over the guest-physical range those frames span: page-track counter
 * chunks (8 KiB per 16 MiB) and, under TDP, table pages (4 KiB each). Shadow pages are not
 * charged to a budget: KVM's cap bounds them.
 */
final class Fit {
    private static final long PAGE = 4096;
    private static final long CHUNK_BYTES = 8192;
    private static final long CHUNK_PAGES = 4096;

    private Fit() {
    }

    /** The need of one run on {@code vm}, or a one-line refusal when the guest is certainly too small. */
    static void check(String name, long scale, GuestPages need, Vm vm, int threads) {
        List<Memslot> slots = vm.memslots();
        String paging = vm.spec().option(VmSpec.PAGING);
        long frames = Kernel.frames(slots, paging);
        long usable = Kernel.forEachUsable(slots, paging, g -> true);
        tooSmall(name, scale, need, "VM " + vm.name(), usable, "vm:create --memory SIZE");
        long bookkeeping = frames * Kernel.FRAME_BOOKKEEPING_BYTES;
        long fresh = 0;
        long span = 0;
        if (need.bounded()) {
            long most = Math.min(usable, need.most() + Kernel.bootPagesAtMost(frames, slots.size())
                    + Kernel.pageListSlack(usable, threads));
            long[] count = {0, 0, 0}; // visited, not resident, highest gfn
            Kernel.forEachUsable(slots, paging, g -> {
                Memslot s = vm.slotForGfn(g);
                // A memslot outside the platform (a test's own Vm) tells no residency: every frame counts.
                if (!(s instanceof PlatformMemslot p) || p.hostPageIfPresent(g) == null) {
                    count[1]++;
                }
                count[2] = g;
                return ++count[0] < most;
            });
            fresh = count[1];
            span = count[2] + 1;
        }
        long mmu = need.bounded() ? mmuBytes(span, slots.size(), VmSpec.MMU_TDP.equals(vm.spec().option(VmSpec.MMU))) : 0;
        long bytes = fresh * PAGE + bookkeeping + mmu;
        MemoryBudget b = vm.memoryBudget();
        long vmRoom = b.vmLimitBytes() == MemoryBudget.UNLIMITED ? Long.MAX_VALUE : b.vmLimitBytes() - b.vmUsedBytes();
        long sandboxRoom = b.sandboxLimitBytes() - b.sandboxUsedBytes();
        String what = "a run of " + name + " at scale " + scale + " on VM " + vm.name() + " needs up to " + human(bytes)
                + " of host memory (" + (need.bounded() ? fresh + " guest pages not yet resident, " : "")
                + human(bookkeeping) + " of the guest model's bookkeeping for " + frames + " frames"
                + (mmu > 0 ? ", " + human(mmu) + " of MMU metadata" : "") + ")";
        if (bytes > vmRoom) {
            throw new VmException(what + ", past the VM " + vm.name() + " memory budget: it holds "
                    + human(b.vmUsedBytes()) + " of " + human(b.vmLimitBytes()) + ", room " + human(vmRoom)
                    + "; raise it with vm:budget " + vm.name() + " SIZE, or use a smaller --scale; nothing was run");
        }
        if (bytes > sandboxRoom) {
            throw new VmException(what + ", past the sandbox memory budget: all VMs hold "
                    + human(b.sandboxUsedBytes()) + " of " + human(b.sandboxLimitBytes()) + ", room "
                    + human(Math.max(0, sandboxRoom)) + "; raise 'sandbox' in workspace/config/org.shadowbox.budget.cfg"
                    + " (and -Xmx in JAVA_OPTS), destroy a VM, or use a smaller --scale; nothing was run");
        }
    }

    /** A certain "guest out of memory": the run needs more frames at once than the guest has. */
    private static void tooSmall(String name, long scale, GuestPages need, String vm, long usable, String raise) {
        long least = need.least() + 2; // the zero page and the kernel's pgd
        if (least > usable) {
            throw new VmException("scenario " + name + " at scale " + scale + " needs at least " + least
                    + " guest pages (" + human(least * PAGE) + ") at once, but " + vm + " has " + usable
                    + " usable pages (" + human(usable * PAGE) + " above its first MiB), so it would run out of guest"
                    + " memory; accepted more guest memory (" + raise + ") or a smaller --scale; nothing was run");
        }
    }

    /**
     * Host bytes a run can take at most on a fresh PC-layout VM of {@code memoryBytes} (nothing
     * resident yet); -1 if {@code need} has no upper bound.
     */
    static long freshVmBytes(String name, long scale, GuestPages need, long memoryBytes, String mmu, int vcpus) {
        long frames = Math.min(memoryBytes / PAGE, 1L << 20);
        long usable = Math.max(0, frames - 0x100);
        tooSmall(name, scale, need, "a compared VM of " + human(memoryBytes), usable, "--memory SIZE");
        if (!need.bounded()) {
            return -1;
        }
        long most = Math.min(usable, need.most() + Kernel.bootPagesAtMost(frames, 2) + Kernel.pageListSlack(usable, vcpus));
        return most * PAGE + frames * Kernel.FRAME_BOOKKEEPING_BYTES
                + mmuBytes(0x100 + most, 2, VmSpec.MMU_TDP.equals(mmu));
    }

    /**
     * The MMU's metadata for guest frames below gfn {@code span}: page-track chunks (one per
     * 16 MiB, plus one per slot for its ends) and, under TDP, table pages: a page table per
     * 2 MiB, a directory per 1 GiB, a PDPT per 512 GiB, the root, two more per level per slot.
     */
    private static long mmuBytes(long span, int slots, boolean tdp) {
        long chunks = span / CHUNK_PAGES + 1 + slots;
        long tables = tdp ? span / 512 + span / (512 * 512) + span / (512L * 512 * 512) + 1 + 6L * slots + 3 : 0;
        return chunks * CHUNK_BYTES + tables * PAGE;
    }

    /** 4 KiB, 1.5 MiB, 128 MiB: the budgets' sizes. */
    static String human(long bytes) {
        return org.shadowbox.vm.MemoryBudget.human(bytes);
    }
}
