package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.shell.internal.Views.VcpuRow;
import org.shadowbox.shell.internal.Views.VmDestroyed;
import org.shadowbox.shell.internal.Views.VmInfo;
import org.shadowbox.shell.internal.Views.VmRow;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/** {@code vm:list}, {@code vm:create}, {@code vm:info}, {@code vm:destroy}: KVM_CREATE_VM and friends. */
@Component(service = Object.class, property = {"osgi.command.scope=vm", "osgi.command.function=list",
        "osgi.command.function=create", "osgi.command.function=info", "osgi.command.function=destroy",
        "osgi.command.function=budget"})
public class VmCommands extends CommandSupport {

    private final Hypervisor hypervisor;

    /** Optional: vm:info shows tracked pages per slot when page track runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PageTrack pageTrack;

    @Activate
    public VmCommands(@Reference Hypervisor hypervisor) {
        super("vm");
        this.hypervisor = hypervisor;
    }

    @Descriptor("list the VMs: name, vCPUs, memory the slots cover, slots, resident (touched) pages")
    public Object list(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help) {
        return run("list", help, json, () -> {
            List<VmRow> rows = new ArrayList<>();
            for (Vm vm : hypervisor.vms()) {
                rows.add(Rows.vmRow(vm));
            }
            return Table.of(VmRow.class, rows);
        });
    }

    @Descriptor("create a VM laid out as a PC: slot 0 holds gfn 0x0-0x9f, slot 1 gfn 0x100 up to the memory size;"
            + " its vCPUs start in the --paging mode")
    public Object create(
            @Descriptor("guest memory: 4096, 0x1000, 64M, 1G, 1T (K M G T are binary); a multiple of 4 KiB above 1 MiB")
            @Parameter(names = "--memory", absentValue = "1G") String size,
            @Descriptor("number of vCPUs, 1 to 64")
            @Parameter(names = "--vcpus", absentValue = "1") String n,
            @Descriptor("the MMU: shadow (shadow paging, the seed's setting) or tdp (two-dimensional paging)")
            @Parameter(names = "--mmu", absentValue = VmSpec.MMU_SHADOW) String mmu,
            @Descriptor("how shadowed page tables stay write-protected: pagetrack (KVM since 2016) or legacy (before)")
            @Parameter(names = "--policy", absentValue = VmSpec.POLICY_PAGETRACK) String policy,
            @Descriptor("the paging mode the vCPUs start in: 64, pae, 32 or off (the reset state)")
            @Parameter(names = "--paging", absentValue = VmSpec.PAGING_64) String paging,
            @Descriptor("host memory the VM's resident pages may take, e.g. 256M (at least 1M); none: only the"
                    + " sandbox's budget (the 'vm' default of org.shadowbox.budget applies when absent)")
            @Parameter(names = "--budget", absentValue = "") String budget,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name: 1 to 32 of A-Z a-z 0-9 _ . -") String name) {
        return run("create", help, json, () -> {
            long bytes = Sizes.parse("--memory", size);
            int vcpus = Numbers.integer("--vcpus", n, 1, VmSpec.MAX_VCPUS);
            VmSpec spec = VmSpec.pc(name, bytes, vcpus).with(VmSpec.MMU, option(mmu))
                    .with(VmSpec.POLICY, option(policy)).with(VmSpec.PAGING, option(paging));
            long limit = budgetBytes("--budget", budget);
            Vm vm = hypervisor.createVm(spec);
            if (limit != 0) {
                vm.setMemoryBudget(limit); // a new VM holds nothing: cannot be refused
            }
            return Rows.vmRow(vm);
        });
    }

    /** {@code --budget}: 0 when absent, {@link MemoryBudget#UNLIMITED} for "none", else at least 1 MiB. */
    private static long budgetBytes(String param, String text) {
        String t = text == null ? "" : text.trim();
        if (t.isEmpty()) {
            return 0;
        }
        if (t.equalsIgnoreCase("none")) {
            return MemoryBudget.UNLIMITED;
        }
        long b = Sizes.parse(param, t);
        if (b < (1L << 20)) {
            throw new VmException("bad " + param + " '" + t + "': accepted 1M or more (e.g. 256M, 4G), or none");
        }
        return b;
    }

    @Descriptor("show or set a VM's memory budget: host memory its resident guest pages and page-track counters may"
            + " take (all VMs together are held to the sandbox's budget, org.shadowbox.budget)")
    public Object budget(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the new budget, e.g. 256M or 4G (at least 1M and what the VM holds), or none") String size) {
        return run("budget", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            long limit = budgetBytes("SIZE", size);
            if (limit == 0) {
                throw new VmException("missing SIZE: accepted 1M or more (e.g. 256M, 4G), or none");
            }
            v.setMemoryBudget(limit);
            return Rows.budget(v);
        });
    }

    @Descriptor("show a VM's memory budget: its own, what it holds, its headroom, and the sandbox's")
    public Object budget(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("budget", help, json, () -> Rows.budget(vm(hypervisor, vm)));
    }

    /** An option value as typed (VmSpec checks it and names the accepted values). */
    private static String option(String value) {
        return value == null ? null : value.trim();
    }

    @Descriptor("show a VM: options (mmu, policy, paging), memory, slots, vCPU registers and statistics")
    public Object info(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("info", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            List<VcpuRow> regs = new ArrayList<>();
            for (int i = 0; i < v.vcpuCount(); i++) {
                regs.add(Rows.vcpuRow(v.vcpu(i)));
            }
            long pages = Rows.pages(v);
            return new VmInfo(v.name(), v.id(), v.vcpuCount(), v.spec().options(), pages << Rows.PAGE_SHIFT, pages, v.maxPhyAddr(),
                    v.gfnLimit(), v.memory().residentPages(), Rows.budget(v), Rows.slots(v, pageTrack),
                    Table.of(VcpuRow.class, regs), v.stats());
        });
    }

    @Descriptor("destroy a VM and free its memory; its page-track notifiers are detached")
    public Object destroy(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("destroy", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            long pages = Rows.pages(v);
            long resident = v.memory().residentPages();
            hypervisor.destroyVm(v.name());
            return new VmDestroyed(v.name(), pages << Rows.PAGE_SHIFT, resident);
        });
    }
}
