package org.shadowbox.shell.internal;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.shadowbox.shell.internal.Views.MemRead;
import org.shadowbox.shell.internal.Views.MemWritten;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/**
 * {@code mem:read}, {@code mem:write}: guest memory as the host (KVM's userspace) sees it.
 * A host-side write notifies no page-track notifier; {@code cpu:write} is the guest's
 * emulated write, which does.
 */
@Component(service = Object.class, property = {"osgi.command.scope=mem", "osgi.command.function=read",
        "osgi.command.function=write"})
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
}
