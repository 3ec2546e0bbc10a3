package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.shell.internal.Views.SlotRow;
import org.shadowbox.shell.internal.Views.VcpuRow;
import org.shadowbox.shell.internal.Views.VmRow;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;

/** Reads VMs, slots and vCPUs into the records of {@link Views}. */
final class Rows {

    static final int PAGE_SHIFT = 12;
    static final long PAGE_SIZE = 1L << PAGE_SHIFT;

    private Rows() {
    }

    static long pages(Vm vm) {
        long n = 0;
        for (Memslot s : vm.memslots()) {
            n += s.npages();
        }
        return n;
    }

    static VmRow vmRow(Vm vm) {
        long pages = pages(vm);
        MemoryBudget b = vm.memoryBudget();
        return new VmRow(vm.name(), vm.vcpuCount(), pages << PAGE_SHIFT, pages, vm.memslots().size(),
                vm.memory().residentPages(), b.vmUsedBytes(), Math.min(b.vmLimitBytes(), b.sandboxLimitBytes()));
    }

    /** vm:info's budget block. */
    static Views.BudgetView budget(Vm vm) {
        MemoryBudget b = vm.memoryBudget();
        String own = b.vmLimitBytes() == MemoryBudget.UNLIMITED ? "none (the sandbox's applies)"
                : Sizes.human(b.vmLimitBytes());
        return new Views.BudgetView(vm.name(), own, b.vmUsedBytes(), b.headroomBytes(), b.sandboxLimitBytes(),
                b.sandboxUsedBytes());
    }

    /** The slots of {@code vm}, with tracked-page counts when page track is there. */
    static Table slots(Vm vm, PageTrack pageTrack) {
        List<Memslot> slots = vm.memslots();
        List<TrackedPage> tracked = pageTrack == null ? null : pageTrack.tracked(vm);
        List<SlotRow> rows = new ArrayList<>();
        for (Memslot s : slots) {
            rows.add(slotRow(s, tracked));
        }
        return Table.of(SlotRow.class, rows);
    }

    /** @param tracked page track's tracked pages of the VM, or null if unknown */
    static SlotRow slotRow(Memslot s, List<TrackedPage> tracked) {
        Long count = null;
        if (tracked != null) {
            count = tracked.stream().filter(p -> p.count() > 0 && s.contains(p.gfn()))
                    .mapToLong(TrackedPage::gfn).distinct().count();
        }
        return new SlotRow(s.id(), s.baseGfn(), s.npages(), s.endGfn(), s.npages() << PAGE_SHIFT, flags(s),
                s.residentPages(), count);
    }

    /** {@code readonly,dirty-log}, or "-" for none. */
    static String flags(Memslot s) {
        List<String> f = new ArrayList<>();
        if (s.readonly()) {
            f.add("readonly");
        }
        if (s.dirtyLogging()) {
            f.add("dirty-log");
        }
        return f.isEmpty() ? "-" : String.join(",", f);
    }

    static VcpuRow vcpuRow(Vcpu v) {
        return new VcpuRow(v.id(), v.get(Register.CR0), v.get(Register.CR2), v.get(Register.CR3),
                v.get(Register.CR4), v.get(Register.EFER), v.get(Register.RFLAGS));
    }

    /** What backs {@code gpa}: {@code slot 1}, {@code slot 2 (read-only)} or {@code mmio hole}. */
    static String backing(Vm vm, long gpa) {
        Memslot s = vm.slotForGfn(gpa >>> PAGE_SHIFT);
        if (s == null) {
            return "mmio hole";
        }
        return "slot " + s.id() + (s.readonly() ? " (read-only)" : "");
    }

    /**
     * How many writes an emulated write of {@code bytes} at {@code gpa} hands to page track:
     * one per page it touches ({@code emulator_read_write_onepage} splits at the boundary),
     * except parts that land in no slot or a read-only slot, which are dropped as MMIO.
     */
    static int emulatedWriteParts(Vm vm, long gpa, int bytes) {
        long end = gpa + bytes - 1;
        int parts = writable(vm, gpa) ? 1 : 0;
        if ((end >>> PAGE_SHIFT) != (gpa >>> PAGE_SHIFT) && writable(vm, end)) {
            parts++;
        }
        return parts;
    }

    private static boolean writable(Vm vm, long gpa) {
        Memslot s = vm.slotForGfn(gpa >>> PAGE_SHIFT);
        return s != null && !s.readonly();
    }

    /** The enabled notifiers of the VM, newest first; null when page track is not running. */
    static List<String> notifierNames(PageTrack pageTrack, Vm vm) {
        if (pageTrack == null) {
            return null;
        }
        List<String> names = new ArrayList<>();
        for (NotifierInfo n : pageTrack.notifiers(vm)) {
            if (!n.disabled()) {
                names.add(n.name());
            }
        }
        return names;
    }
}
