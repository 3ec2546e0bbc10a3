package org.shadowbox.writeflood.internal;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.shadowbox.command.CommandBase;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.writeflood.internal.FloodFormat.ConfigRow;
import org.shadowbox.writeflood.internal.FloodFormat.StatsView;

/**
 * {@code flood:stats} and {@code flood:config}. As the shell's commands: {@code --json} and
 * {@code --help} on each, one line for a mistake (nothing changed). Results are Strings, which
 * Gogo prints as they are.
 */
@Component(service = FloodCommands.class, property = {"osgi.command.scope=flood", "osgi.command.function=stats",
        "osgi.command.function=config"})
public final class FloodCommands extends CommandBase {
    static final String ON = "true";
    static final String OFF = "false";
    static final String JSON = "print the result as one JSON value";
    static final String HELP = "show this help";

    private final WriteFlood flood;
    private final Hypervisor hypervisor;

    @Activate
    public FloodCommands(@Reference WriteFlood flood, @Reference Hypervisor hypervisor) {
        super("flood");
        this.flood = flood;
        this.hypervisor = hypervisor;
    }

    @Descriptor("write-flood counters of a VM (kvm_mmu_pte_write): writes, sptes updated in place, non-leaf"
            + " sptes zapped, shadow pages zapped as flooded or misaligned, flushes, per-policy work")
    public String stats(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        if (ON.equals(help)) {
            return usage("stats");
        }
        Vm v = vm(vm);
        VmFlood f = flood.pteWrite.flood(v);
        Settings.Choice c = flood.pteWrite.settings().forVm(v.name());
        StatsView s = new StatsView(v.name(), c.policy().label(), c.threshold(), f.snapshot().asMap());
        return ON.equals(json) ? FloodFormat.json(s) : FloodFormat.text(s);
    }

    /** --vm's absent value: no VM name can be spelled so. */
    static final String EVERY_VM = "<every VM>";

    @Descriptor("show or change the write-flood policy (kvm, xen, zap) and flood threshold, for every VM or"
            + " one; guests see the same under every policy, only the work differs")
    public String config(
            @Descriptor("kvm (KVM's detection), xen (Xen's early unshadow, then KVM's rules) or zap (zap every"
                    + " shadow page of a written gfn)") @Parameter(names = "--policy", absentValue = "") String policy,
            @Descriptor("writes to a shadowed page table, since it was last used, that zap it (KVM: 3)")
            @Parameter(names = "--threshold", absentValue = "") String threshold,
            @Descriptor("change only this VM (it need not exist yet); default every VM without its own choice")
            @Parameter(names = "--vm", absentValue = EVERY_VM) String vm,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help) {
        if (ON.equals(help)) {
            return usage("config");
        }
        synchronized (flood.pteWrite) {
            Settings s = flood.pteWrite.settings();
            FloodPolicy p = policy.isEmpty() ? null : FloodPolicy.parse(policy);
            Integer t = threshold.isEmpty() ? null : Settings.parseThreshold(threshold);
            boolean every = EVERY_VM.equals(vm); // --vm absent; an empty --vm '' is a bad name, not "every VM"
            if (!every && !vm.matches("[A-Za-z0-9_.-]{1,32}")) {
                throw new VmException("bad --vm '" + vm + "': accepted a VM name, 1 to 32 of A-Z a-z 0-9 _ . -"
                        + " (leave --vm out to change every VM)");
            }
            if (p != null || t != null) {
                if (every) {
                    s = new Settings(p != null ? p : s.policy(), t != null ? t : s.threshold(), s.perVm());
                } else {
                    Settings.Choice old = s.forVm(vm);
                    s = s.withVm(vm, new Settings.Choice(p != null ? p : old.policy(), t != null ? t : old.threshold()));
                }
                flood.pteWrite.settings(s);
            }
            List<ConfigRow> rows = new ArrayList<>();
            rows.add(new ConfigRow(null, s.policy().label(), s.threshold()));
            s.perVm().forEach((name, c) -> rows.add(new ConfigRow(name, c.policy().label(), c.threshold())));
            return ON.equals(json) ? FloodFormat.json(rows) : FloodFormat.text(rows);
        }
    }

    private Vm vm(String name) {
        if (name == null || name.isBlank()) {
            throw new VmException("missing VM: give a VM name (vm:list shows them)");
        }
        return hypervisor.require(name.trim());
    }
}
