package org.shadowbox.shell.internal;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.shadowbox.shell.internal.Views.MemFilled;
import org.shadowbox.shell.internal.Views.MemRead;
import org.shadowbox.shell.internal.Views.MemWritten;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * {@code mem:read}, {@code mem:write}, {@code mem:fill}: guest memory as the host (KVM's
 * userspace) sees it. A host-side write notifies no page-track notifier; {@code cpu:write} is
 * the guest's emulated write, which does.
 */
@Component(service = Object.class, property = {"osgi.command.scope=mem", "osgi.command.function=read",
        "osgi.command.function=write", "osgi.command.function=fill"})
public class MemCommands extends CommandSupport {

    static final String SIZE = "access width in bytes: 1, 2, 4 or 8 (little-endian)";

    private final Hypervisor hypervisor;

    @Activate
    public MemCommands(@Reference Hypervisor hypervisor) {
        super("mem");
        this.hypervisor = hypervisor;
    }

    @Descriptor("read guest memory host-side; a gpa in no memslot is an MMIO hole and reads all ones")
    public Object read(
            @Descriptor(SIZE) @Parameter(names = "--size", absentValue = "8") String bytes,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("guest physical address, 0x hex or decimal") String gpa) {
        return run("read", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            long a = Numbers.address("GPA", gpa);
            int size = Numbers.accessSize("--size", bytes);
            return new MemRead(v.name(), a, size, v.memory().read(a, size), Rows.backing(v, a));
        });
    }

    @Descriptor("write guest memory host-side, as userspace does: notifies nobody (cpu:write is the guest's"
            + " emulated write, which notifies page track)")
    public Object write(
            @Descriptor(SIZE) @Parameter(names = "--size", absentValue = "8") String bytes,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("guest physical address, 0x hex or decimal") String gpa,
            @Descriptor("the value, 0x hex or decimal; it must fit in --size bytes") String value) {
        return run("write", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            long a = Numbers.address("GPA", gpa);
            int size = Numbers.accessSize("--size", bytes);
            long val = Numbers.value("VALUE", value, size);
            v.memory().write(a, val, size);
            return new MemWritten(v.name(), a, size, val, Rows.backing(v, a), false);
        });
    }

    /** The largest mem:fill: 1 TiB of guest addresses (the pages it makes resident are what the budget bounds). */
    static final long MAX_FILL = 1L << 40;

    @Descriptor("fill guest memory host-side with one byte value, as userspace's memset: notifies nobody. The"
            + " pages it would make resident are checked against the memory budgets first: if they do not fit,"
            + " nothing is written")
    public Object fill(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("guest physical address of the first byte, 0x hex or decimal") String gpa,
            @Descriptor("bytes to fill: 4096, 0x1000, 64M, 1G (at most 1T); the range must be guest RAM") String length,
            @Descriptor("the byte value, 0 to 0xff") String value) {
        return run("fill", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            long a = Numbers.address("GPA", gpa);
            long len = Sizes.parse("LENGTH", length);
            if (len < 1 || len > MAX_FILL) {
                throw new VmException("bad LENGTH " + len + ": accepted 1 byte to 1T");
            }
            if (a + len - 1 < a) {
                throw new VmException("bad range 0x" + Long.toHexString(a) + " + " + len + ": it wraps past the top of"
                        + " the address space");
            }
            int b = (int) Numbers.value("VALUE", value, 1);
            long newPages = newPages(v, a, len);
            byte[] page = new byte[4096];
            java.util.Arrays.fill(page, (byte) b);
            for (long at = a, left = len; left > 0;) {
                int n = (int) Math.min(left, 4096 - (at & 4095));
                v.memory().write(at, page, 0, n);
                at += n;
                left -= n;
            }
            return new MemFilled(v.name(), a, len, b, newPages);
        });
    }

    /**
     * The pages of {@code [gpa, gpa + len)} that are not resident yet, once the whole range is
     * known to be writable guest RAM and those pages fit the VM's and the sandbox's budget;
     * otherwise one line, before anything is written.
     */
    private static long newPages(Vm v, long gpa, long len) {
        long first = gpa >>> 12;
        long last = (gpa + len - 1) >>> 12;
        org.shadowbox.vm.MemoryBudget budget = v.memoryBudget();
        long room = budget.headroomBytes() >>> 12;
        long fresh = 0;
        for (long gfn = first; gfn <= last;) {
            org.shadowbox.vm.Memslot slot = v.slotForGfn(gfn);
            if (slot == null || slot.readonly()) {
                throw new VmException("gpa 0x" + Long.toHexString(gfn << 12) + " of the range is " + (slot == null
                        ? "in no memslot (an MMIO hole)" : "in read-only slot " + slot.id()) + ": accepted a range of"
                        + " writable guest RAM (slot:list " + v.name() + ")");
            }
            long end = Math.min(last, slot.endGfn() - 1);
            for (; gfn <= end; gfn++) {
                if (slot.hostPageIfPresent(gfn) == null && ++fresh > room) {
                    throw new VmException(refusal(v, budget, first, last));
                }
            }
        }
        return fresh;
    }

    /** The budget's refusal of a whole fill, in one line naming the budget that binds and how to raise it. */
    private static String refusal(Vm v, org.shadowbox.vm.MemoryBudget b, long first, long last) {
        String range = Sizes.human((last - first + 1) << 12);
        boolean vmBinds = b.vmLimitBytes() - b.vmUsedBytes() <= b.sandboxLimitBytes() - b.sandboxUsedBytes();
        String which = vmBinds
                ? "VM " + v.name() + " memory budget: it holds " + Sizes.human(b.vmUsedBytes()) + " of "
                        + Sizes.human(b.vmLimitBytes()) + "; raise it with vm:budget " + v.name() + " SIZE"
                : "sandbox memory budget: all VMs hold " + Sizes.human(b.sandboxUsedBytes()) + " of "
                        + Sizes.human(b.sandboxLimitBytes()) + "; raise 'sandbox' in"
                        + " workspace/config/org.shadowbox.budget.cfg (and -Xmx in JAVA_OPTS), or destroy a VM";
        return "mem:fill of " + range + " would make more than " + Sizes.human(b.headroomBytes() & ~4095L)
                + " of new guest pages resident, past the " + which + "; nothing was written";
    }
}
