package org.shadowbox.shell.internal;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
import org.shadowbox.mmu.ShadowPageInfo;
import org.shadowbox.mmu.Walk;
import org.shadowbox.shell.internal.Views.MmuAccess;
import org.shadowbox.shell.internal.Views.MmuCheck;
import org.shadowbox.shell.internal.Views.MmuFlush;
import org.shadowbox.shell.internal.Views.MmuInvlpg;
import org.shadowbox.shell.internal.Views.MmuWalk;
import org.shadowbox.shell.internal.Views.ShadowPageRow;
import org.shadowbox.shell.internal.Views.StatRow;
import org.shadowbox.shell.internal.Views.WalkRow;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.VcpuClaim;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * {@code mmu:access}, {@code mmu:walk}, {@code mmu:pages}, {@code mmu:stats}, {@code mmu:check},
 * {@code mmu:flush}, {@code mmu:invlpg}: the guest's memory accesses through the MMU and the
 * MMU's state; {@code mmu:map} adds a mapping to a guest's page tables (see
 * {@link PageTableBuilder}). Without the mmu bundle every command but {@code mmu:map}, which
 * only writes guest memory, fails with one line saying so.
 */
@Component(service = Object.class, property = {"osgi.command.scope=mmu", "osgi.command.function=access",
        "osgi.command.function=walk", "osgi.command.function=pages", "osgi.command.function=stats",
        "osgi.command.function=check", "osgi.command.function=flush", "osgi.command.function=invlpg",
        "osgi.command.function=map"})
public class MmuCommands extends CommandSupport {

    static final String VCPU = "the vCPU's id, from 0";
    static final String GVA = "guest virtual address, 0x hex or decimal (64 bits: 0xffff800000000000 is fine)";

    private final Hypervisor hypervisor;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Mmu mmu;

    @Activate
    public MmuCommands(@Reference Hypervisor hypervisor) {
        super("mmu");
        this.hypervisor = hypervisor;
    }

    @Descriptor("a guest load, store or instruction fetch through the MMU (TLB, shadow tables, page-fault handler):"
            + " prints what the guest saw (the value and gpa, or the fault with its error code bits), whether the"
            + " hypervisor emulated it, and the MMU counters it moved")
    public Object access(
            @Descriptor("a user-mode (CPL 3) access; supervisor when left out")
            @Parameter(names = "--user", presentValue = ON, absentValue = OFF) String user,
            @Descriptor(MemCommands.SIZE) @Parameter(names = "--size", absentValue = "8") String bytes,
            @Descriptor("the value a write stores, 0x hex or decimal (default 0; read and fetch ignore it)")
            @Parameter(names = "--value", absentValue = "0") String value,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor(VCPU) String vcpu,
            @Descriptor(GVA) String gva,
            @Descriptor("read, write or fetch") String access) {
        return run("access", help, json, () -> {
            Mmu m = require(mmu);
            Vm v = vm(hypervisor, vm);
            int id = vcpu(v, vcpu);
            long a = Numbers.u64("GVA", gva);
            int size = Numbers.accessSize("--size", bytes);
            String kind = access == null ? "" : access.trim().toLowerCase(Locale.ROOT);
            if (!kind.equals("read") && !kind.equals("write") && !kind.equals("fetch")) {
                throw new VmException("bad access '" + (access == null ? "" : access.trim())
                        + "': accepted read, write or fetch");
            }
            long val = Numbers.value("--value", value, size);
            boolean u = ON.equals(user);
            GuestCpu cpu = m.cpu(v, id);
            Map<String, Long> before = counters(m, v);
            boolean ok;
            try (VcpuClaim c = v.vcpu(id).claim("the shell's mmu:access")) {
                ok = switch (kind) {
                    case "read" -> cpu.read(a, size, u);
                    case "write" -> cpu.write(a, val, size, u);
                    default -> cpu.fetch(a, size, u);
                };
            }
            String moved = moved(before, counters(m, v));
            String how = kind + ", " + (u ? "user" : "supervisor");
            if (ok) {
                long seen = kind.equals("write") ? (size == 8 ? val : val & ((1L << (8 * size)) - 1)) : cpu.value();
                return new MmuAccess(v.name(), id, a, how, size, "ok", seen, cpu.gpa(), null, null, cpu.emulated(),
                        moved);
            }
            if (cpu.exception() == GuestCpu.PAGE_FAULT) {
                return new MmuAccess(v.name(), id, a, how, size, "page fault (#PF)", null, null,
                        (long) cpu.errorCode(), Registers.errorBits(cpu.errorCode()), cpu.emulated(), moved);
            }
            return new MmuAccess(v.name(), id, a, how, size, "general protection (#GP): non-canonical address", null,
                    null, null, null, cpu.emulated(), moved);
        });
    }

    @Descriptor("each level of the guest's walk of a gva (a supervisor read probe that sets no A/D bit) and of"
            + " the hardware walk of the vCPU's shadow tables; faults nothing in")
    public Object walk(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor(VCPU) String vcpu,
            @Descriptor(GVA) String gva) {
        return run("walk", help, json, () -> {
            Mmu m = require(mmu);
            Vm v = vm(hypervisor, vm);
            int id = vcpu(v, vcpu);
            Walk w = m.walk(v, id, Numbers.u64("GVA", gva));
            return new MmuWalk(v.name(), id, w.gva(), Table.of(WalkRow.class, rows(w.guest())),
                    Table.of(WalkRow.class, rows(w.shadow())), w.result());
        });
    }

    private static List<WalkRow> rows(List<Walk.Step> steps) {
        List<WalkRow> out = new ArrayList<>();
        for (Walk.Step s : steps) {
            out.add(new WalkRow(s.level(), s.address(), s.entry(), s.decoded()));
        }
        return out;
    }

    @Descriptor("the VM's shadow pages (struct kvm_mmu_page), newest first: gfn, level, role, unsync, flood count,"
            + " parent sptes, vCPU roots holding it")
    public Object pages(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("pages", help, json, () -> {
            Mmu m = require(mmu);
            List<ShadowPageRow> rows = new ArrayList<>();
            for (ShadowPageInfo p : m.shadowPages(vm(hypervisor, vm))) {
                rows.add(new ShadowPageRow(p.id(), p.gfn(), p.level(), p.role(), p.direct(), p.unsync(),
                        p.writeFloodingCount(), p.parents(), p.rootCount()));
            }
            return Table.of(ShadowPageRow.class, rows);
        });
    }

    @Descriptor("the MMU's counters by KVM's names (pf_fixed, pf_emulate, mmu_cache_miss, mmu_shadow_zapped, ...)")
    public Object stats(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("stats", help, json, () -> {
            Mmu m = require(mmu);
            List<StatRow> rows = new ArrayList<>();
            for (Mmu.Stat s : m.stats(vm(hypervisor, vm))) {
                rows.add(new StatRow(s.name(), s.value()));
            }
            return Table.of(StatRow.class, rows);
        });
    }

    @Descriptor("run the MMU's invariant checker: prints ok, or prints every violation and fails (so a script"
            + " stops there)")
    public Object check(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("check", help, json, () -> {
            Mmu m = require(mmu);
            Vm v = vm(hypervisor, vm);
            List<String> violations = m.check(v);
            if (violations.isEmpty()) {
                return new MmuCheck(v.name(), "ok", violations);
            }
            PrintStream out = System.out; // the session's output while Gogo runs the command
            if (ON.equals(json)) {
                out.println(Json.encode(new MmuCheck(v.name(), "violated", violations)));
            } else {
                violations.forEach(out::println);
            }
            throw new VmException("VM " + v.name() + ": " + violations.size() + " MMU invariant violation"
                    + (violations.size() == 1 ? "" : "s") + " (listed above); the first: " + violations.get(0));
        });
    }

    @Descriptor("flush the TLB of every vCPU (KVM_REQ_TLB_FLUSH: served before each vCPU's next access)")
    public Object flush(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("flush", help, json, () -> {
            Mmu m = require(mmu);
            Vm v = vm(hypervisor, vm);
            m.flush(v, -1);
            return new MmuFlush(v.name(), v.vcpuCount() == 1 ? "0" : "0-" + (v.vcpuCount() - 1),
                    "before each one's next access (KVM_REQ_TLB_FLUSH)");
        });
    }

    @Descriptor("flush the TLB of one vCPU (KVM_REQ_TLB_FLUSH: served before its next access)")
    public Object flush(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the vCPU's id, from 0 (every vCPU when left out)") String vcpu) {
        return run("flush", help, json, () -> {
            Mmu m = require(mmu);
            Vm v = vm(hypervisor, vm);
            int id = vcpu(v, vcpu);
            m.flush(v, id);
            return new MmuFlush(v.name(), Integer.toString(id), "before its next access (KVM_REQ_TLB_FLUSH)");
        });
    }

    @Descriptor("the guest executes invlpg GVA (kvm_mmu_invlpg): the translation leaves the TLB and its shadow"
            + " entry is resynced from the guest's table")
    public Object invlpg(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor(VCPU) String vcpu,
            @Descriptor(GVA) String gva) {
        return run("invlpg", help, json, () -> {
            Mmu m = require(mmu);
            Vm v = vm(hypervisor, vm);
            int id = vcpu(v, vcpu);
            long a = Numbers.u64("GVA", gva);
            GuestCpu cpu = m.cpu(v, id);
            Map<String, Long> before = counters(m, v);
            try (VcpuClaim c = v.vcpu(id).claim("the shell's mmu:invlpg")) {
                cpu.invlpg(a);
            }
            return new MmuInvlpg(v.name(), id, a, moved(before, counters(m, v)));
        });
    }

    @Descriptor("add a mapping to the page tables of a vCPU (4-level, from its CR3) with host-side writes, as a"
            + " loader does before the guest runs: missing tables are taken from the area --tables names (zeroed"
            + " pages nothing points at); an address that is already mapped is refused, so nothing the MMU"
            + " shadows is ever changed behind its back")
    public Object map(
            @Descriptor("user pages (U/S set); supervisor when left out")
            @Parameter(names = "--user", presentValue = ON, absentValue = OFF) String user,
            @Descriptor("writable (R/W set); read-only when left out")
            @Parameter(names = "--writable", presentValue = ON, absentValue = OFF) String writable,
            @Descriptor("no-execute (NX set; reserved unless EFER.NXE)")
            @Parameter(names = "--nx", presentValue = ON, absentValue = OFF) String nx,
            @Descriptor("page size: 4K, 2M or 1G")
            @Parameter(names = "--page", absentValue = "4K") String page,
            @Descriptor("first gfn of the area new page tables are taken from (needed when a table is missing)")
            @Parameter(names = "--tables", absentValue = "") String tables,
            @Descriptor("pages in that area")
            @Parameter(names = "--table-pages", absentValue = "64") String tablePages,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor(VCPU + " (its CR3 names the top table)") String vcpu,
            @Descriptor(GVA + "; aligned to the page size") String gva,
            @Descriptor("guest physical address it maps to, aligned to the page size") String gpa) {
        return run("map", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            int id = vcpu(v, vcpu);
            PageTableBuilder b = new PageTableBuilder(v, v.vcpu(id));
            try (VcpuClaim c = v.vcpu(id).claim("the shell's mmu:map")) {
                return b.map(Numbers.u64("GVA", gva), Numbers.address("GPA", gpa), PageTableBuilder.pageLevel(page),
                        ON.equals(user), ON.equals(writable), ON.equals(nx), tables, tablePages);
            }
        });
    }

    static int vcpu(Vm v, String text) {
        return Numbers.integer("VCPU", text, 0, v.vcpuCount() - 1);
    }

    private static Map<String, Long> counters(Mmu m, Vm v) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Mmu.Stat s : m.stats(v)) {
            out.put(s.name(), s.value());
        }
        return out;
    }

    /** "pf_emulate +1, tlb_miss +1": the counters that changed, in the MMU's order; "-" if none. */
    static String moved(Map<String, Long> before, Map<String, Long> after) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Long> e : after.entrySet()) {
            long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (d != 0) {
                out.add(e.getKey() + " " + (d > 0 ? "+" : "") + d);
            }
        }
        return out.isEmpty() ? "-" : String.join(", ", out);
    }
}
