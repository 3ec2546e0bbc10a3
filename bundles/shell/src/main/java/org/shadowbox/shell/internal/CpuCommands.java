package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.shell.internal.Views.CpuCmpxchg;
import org.shadowbox.shell.internal.Views.CpuRow;
import org.shadowbox.shell.internal.Views.CpuSet;
import org.shadowbox.shell.internal.Views.CpuState;
import org.shadowbox.shell.internal.Views.CpuWritten;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VcpuClaim;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * {@code cpu:write}, {@code cpu:cmpxchg}: a vCPU's emulated guest writes, KVM's
 * {@code emulator_write_phys} and {@code emulator_cmpxchg_emulated}. They store to guest
 * memory and then tell page track ({@code kvm_page_track_write}), which calls every notifier.
 * {@code cpu:show}, {@code cpu:set}: the registers the MMU depends on; a write goes through
 * the MMU when it serves the VM (a CR3 write switches roots, as {@code kvm_set_cr3}).
 */
@Component(service = Object.class, property = {"osgi.command.scope=cpu", "osgi.command.function=write",
        "osgi.command.function=cmpxchg", "osgi.command.function=show", "osgi.command.function=set"})
public class CpuCommands extends CommandSupport {

    private final Hypervisor hypervisor;

    /** Optional: only to name the notifiers that were told. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PageTrack pageTrack;

    /** Optional: cpu:set goes through the MMU when it serves the VM. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Mmu mmu;

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
            try (VcpuClaim c = cpu.claim("the shell's cpu:write")) {
                cpu.emulatorWritePhys(a, val, size);
            }
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
            boolean exchanged;
            try (VcpuClaim c = cpu.claim("the shell's cpu:cmpxchg")) {
                exchanged = cpu.emulatorCmpxchg(a, expected, val, size);
            }
            PageTrack pt = pageTrack;
            int told = exchanged && pt != null ? parts : 0;
            return new CpuCmpxchg(v.name(), cpu.id(), a, size, expected, val, exchanged, v.memory().read(a, size),
                    told, Rows.notifierNames(pt, v));
        });
    }

    @Descriptor("show one vCPU's registers (cr0, cr2, cr3, cr4, efer, rflags) with their paging bits by name,"
            + " its paging mode and whether the MMU serves it")
    public Object show(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the vCPU's id, from 0") String vcpu) {
        return run("show", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            Vcpu cpu = v.vcpu(Numbers.integer("VCPU", vcpu, 0, VmSpec.MAX_VCPUS - 1));
            return new CpuState(v.name(), cpu.id(), Registers.paging(cpu), cpu.get(Register.CR0),
                    cpu.get(Register.CR2), cpu.get(Register.CR3), cpu.get(Register.CR4), cpu.get(Register.EFER),
                    cpu.get(Register.RFLAGS), Registers.flags(cpu), mmuState(v, cpu.id()));
        });
    }

    @Descriptor("show every vCPU of a VM: paging mode and registers")
    public Object show(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("show", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            List<CpuRow> rows = new ArrayList<>();
            for (int i = 0; i < v.vcpuCount(); i++) {
                Vcpu c = v.vcpu(i);
                rows.add(new CpuRow(i, Registers.paging(c), c.get(Register.CR0), c.get(Register.CR2),
                        c.get(Register.CR3), c.get(Register.CR4), c.get(Register.EFER), c.get(Register.RFLAGS)));
            }
            return Table.of(CpuRow.class, rows);
        });
    }

    /** "shadow MMU", or why the MMU does not serve the vCPU. */
    private String mmuState(Vm v, int vcpu) {
        Mmu m = mmu;
        if (m == null) {
            return "none: the org.shadowbox.mmu bundle is not active";
        }
        try {
            m.cpu(v, vcpu);
            return "served";
        } catch (VmException e) {
            return "not served: " + e.getMessage();
        }
    }

    @Descriptor("set a register as the guest's mov to CR0/CR3/CR4, wrmsr EFER, popf would: through the MMU when it"
            + " serves the VM (a CR3 write with paging on loads the new root, a PAE guest's PDPTEs, and flushes"
            + " the TLB, kvm_set_cr3; a CR0/CR4/EFER change resets the MMU context at the next access), else the"
            + " register alone; values are stored as given, without the architecture's consistency checks")
    public Object set(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the vCPU's id, from 0") String vcpu,
            @Descriptor("the register: cr0, cr2, cr3, cr4, efer or rflags") String reg,
            @Descriptor("the new value, 0x hex or decimal (64 bits)") String value) {
        return run("set", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            Vcpu cpu = v.vcpu(Numbers.integer("VCPU", vcpu, 0, VmSpec.MAX_VCPUS - 1));
            Register r = Register.parse(reg == null ? "" : reg.trim());
            long val = Numbers.u64("VALUE", value);
            long old = cpu.get(r);
            GuestCpu guest = null;
            String via;
            Mmu m = mmu;
            if (m == null) {
                via = "register only (the org.shadowbox.mmu bundle is not active)";
            } else {
                try {
                    guest = m.cpu(v, cpu.id());
                    via = Registers.viaMmu(r, cpu);
                } catch (VmException e) {
                    via = "register only (" + e.getMessage() + ")";
                }
            }
            try (VcpuClaim c = cpu.claim("the shell's cpu:set")) {
                if (guest != null) {
                    guest.writeRegister(r, val);
                } else {
                    cpu.set(r, val);
                }
            }
            return new CpuSet(v.name(), cpu.id(), r.name().toLowerCase(Locale.ROOT), old, cpu.get(r), via,
                    Registers.paging(cpu));
        });
    }
}
