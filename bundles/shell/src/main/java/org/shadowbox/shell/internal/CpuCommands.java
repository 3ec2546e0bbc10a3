package org.shadowbox.shell.internal;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.shell.internal.Views.CpuCmpxchg;
import org.shadowbox.shell.internal.Views.CpuWritten;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * {@code cpu:write}, {@code cpu:cmpxchg}: a vCPU's emulated guest writes, KVM's
 * {@code emulator_write_phys} and {@code emulator_cmpxchg_emulated}. They store to guest
 * memory and then tell page track ({@code kvm_page_track_write}), which calls every notifier.
 */
@Component(service = Object.class, property = {"osgi.command.scope=cpu", "osgi.command.function=write",
        "osgi.command.function=cmpxchg"})
public class CpuCommands extends CommandSupport {

    private final Hypervisor hypervisor;

    /** Optional: only to name the notifiers that were told. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PageTrack pageTrack;

    @Activate
    public CpuCommands(@Reference Hypervisor hypervisor) {
        super("cpu");
        this.hypervisor = hypervisor;
    }

    @Descriptor("emulated guest write (emulator_write_phys): stores the value, then page track tells every"
            + " notifier; a write crossing a page is split in two; no slot or a read-only slot drops it")
    public Object write(
            @Descriptor(MemCommands.SIZE) @Parameter(names = "--size", absentValue = "8") String bytes,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the writing vCPU's id, from 0") String vcpu,
            @Descriptor("guest physical address, 0x hex or decimal") String gpa,
            @Descriptor("the value, 0x hex or decimal; it must fit in --size bytes") String value) {
        return run("write", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            Vcpu cpu = v.vcpu(Numbers.integer("VCPU", vcpu, 0, VmSpec.MAX_VCPUS - 1));
            long a = Numbers.address("GPA", gpa);
            int size = Numbers.accessSize("--size", bytes);
            long val = Numbers.value("VALUE", value, size);
            int parts = Rows.emulatedWriteParts(v, a, size);
            cpu.emulatorWritePhys(a, val, size);
            PageTrack pt = pageTrack;
            return new CpuWritten(v.name(), cpu.id(), a, size, val, Rows.backing(v, a), pt == null ? 0 : parts,
                    Rows.notifierNames(pt, v));
        });
    }

    @Descriptor("emulated guest cmpxchg (emulator_cmpxchg_emulated): if memory holds OLD, stores NEW_VALUE"
            + " and notifies as cpu:write; otherwise writes and notifies nothing")
    public Object cmpxchg(
            @Descriptor(MemCommands.SIZE) @Parameter(names = "--size", absentValue = "8") String bytes,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the writing vCPU's id, from 0") String vcpu,
            @Descriptor("guest physical address, 0x hex or decimal; the access must not cross a page") String gpa,
            @Descriptor("the value expected in memory, 0x hex or decimal") String old,
            @Descriptor("the value to store if memory holds OLD, 0x hex or decimal") String newValue) {
        return run("cmpxchg", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            Vcpu cpu = v.vcpu(Numbers.integer("VCPU", vcpu, 0, VmSpec.MAX_VCPUS - 1));
            long a = Numbers.address("GPA", gpa);
            int size = Numbers.accessSize("--size", bytes);
            long expected = Numbers.value("OLD", old, size);
            long val = Numbers.value("NEW_VALUE", newValue, size);
            int parts = Rows.emulatedWriteParts(v, a, size);
            boolean exchanged = cpu.emulatorCmpxchg(a, expected, val, size);
            PageTrack pt = pageTrack;
            int told = exchanged && pt != null ? parts : 0;
            return new CpuCmpxchg(v.name(), cpu.id(), a, size, expected, val, exchanged, v.memory().read(a, size),
                    told, Rows.notifierNames(pt, v));
        });
    }
}
