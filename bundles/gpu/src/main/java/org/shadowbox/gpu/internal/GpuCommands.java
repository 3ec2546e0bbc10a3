package org.shadowbox.gpu.internal;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.command.CommandBase;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The vGPU plugin: {@code gpu:list}, {@code gpu:attach}, {@code gpu:detach}, {@code gpu:tables},
 * {@code gpu:stats}, the driver's registers by hand ({@code gpu:give}, {@code gpu:take},
 * {@code gpu:root}, {@code gpu:submit}), the tracker's notifier (attached to every VM; it ignores VMs with no vGPU)
 * and, when the guest bundle is there, the {@code gpu-driver} scenario.
 *
 * <p>Like any tracker bundle: page track is bundle-scoped, so the tables it write-protects are
 * owned by this bundle and released when it stops. On deactivation the notifier is
 * unregistered first (page track waits for calls in flight, and no lock of ours is held), then
 * every vGPU is detached, which gives every track back.
 */
@Component(name = "org.shadowbox.gpu", service = GpuCommands.class, immediate = true, property = {
        "osgi.command.scope=gpu",
        "osgi.command.function=list",
        "osgi.command.function=attach",
        "osgi.command.function=detach",
        "osgi.command.function=tables",
        "osgi.command.function=stats",
        "osgi.command.function=give",
        "osgi.command.function=take",
        "osgi.command.function=root",
        "osgi.command.function=submit" })
public final class GpuCommands extends CommandBase {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.gpu");
    private static final String JSON = "print one JSON value instead of text";
    private static final String HELP = "show this help";

    private final Hypervisor hypervisor;
    private final Gpus gpus;
    private final ServiceRegistration<PageTrackNotifier> notifier;
    private final ServiceRegistration<?> scenario;

    @Activate
    public GpuCommands(@Reference Hypervisor hypervisor, @Reference PageTrack pageTrack, BundleContext context) {
        super("gpu");
        this.hypervisor = hypervisor;
        this.gpus = new Gpus(pageTrack);
        this.notifier = context.registerService(PageTrackNotifier.class, gpus, null);
        this.scenario = ScenarioRegistration.register(context, gpus);
    }

    @Deactivate
    void deactivate() {
        for (ServiceRegistration<?> r : new ServiceRegistration<?>[] {scenario, notifier}) {
            if (r != null) {
                try {
                    r.unregister();
                } catch (IllegalStateException e) {
                    // the framework got there first
                }
            }
        }
        gpus.detachAll();
    }

    @Descriptor("list the vGPUs: VM, shadowed table pages, pages given to the GPU, contexts, writes, violations")
    public String list(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "list");
        }
        List<GpuFormat.GpuRow> rows = new ArrayList<>();
        for (VGpu g : gpus.all()) {
            GpuStats.Snapshot s = g.stats();
            long contexts = g.roots().stream().filter(r -> !r.equals("-")).count();
            rows.add(new GpuFormat.GpuRow(g.vm.name(), s.trackedPages(), g.grants().size(), contexts, s.writes(),
                    s.violations(), s.submits()));
        }
        return json ? GpuFormat.jsonRows(rows) : GpuFormat.textRows(rows);
    }

    @Descriptor("attach a vGPU to a VM (the gpu-driver scenario also attaches one when it finds none)")
    public String attach(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("VM name") String vm) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "attach");
        }
        Vm v = hypervisor.require(vm);
        boolean had = gpus.find(v) != null;
        gpus.attach(v);
        return GpuFormat.change(json, v.name(), had ? "already attached" : "attached");
    }

    @Descriptor("detach a VM's vGPU: every shadow table dropped, every write-protected page released")
    public String detach(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("VM name") String vm) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "detach");
        }
        Vm v = hypervisor.require(vm);
        gpus.detach(v);
        return GpuFormat.change(json, v.name(), "detached");
    }

    @Descriptor("show a VM's shadow GPU page tables: the contexts' roots and each shadowed table")
    public String tables(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("VM name") String vm) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "tables");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        return json ? GpuFormat.jsonTables(g.vm.name(), g.roots(), g.tables())
                : GpuFormat.textTables(g.vm.name(), g.roots(), g.tables());
    }

    @Descriptor("show a VM's vGPU counters: tracked pages, writes handled, rejections, violations, rebuilds, batches")
    public String stats(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("VM name") String vm) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "stats");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        return json ? GpuFormat.jsonStats(g.vm.name(), g.stats()) : GpuFormat.textStats(g.vm.name(), g.stats());
    }

    @Descriptor("the driver's registration: give a guest page to the GPU as a data page, or with --table as a"
            + " page table of that level (1 to 4)")
    public String give(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("a page-table level, 1 (leaf) to 4 (root); absent: a data page")
            @Parameter(names = "--table", absentValue = "") String level,
            @Descriptor("VM name") String vm,
            @Descriptor("guest frame number, 0x hex or decimal") String gfn) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "give");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        long f = guestGfn(g.vm, gfn);
        int l = level.isEmpty() ? 0 : tableLevel(level);
        if (l == 0) {
            g.grantData(f);
        } else {
            g.grantTable(f, l);
        }
        return GpuFormat.change(json, g.vm.name(), "gave gfn 0x" + Long.toHexString(f) + " as " + Grants.name(l));
    }

    @Descriptor("take a page back from the GPU: shadow entries that used it go to the scratch page")
    public String take(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("VM name") String vm,
            @Descriptor("guest frame number, 0x hex or decimal") String gfn) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "take");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        long f = guestGfn(g.vm, gfn);
        java.util.Map<Long, Integer> given = g.grants();
        if (!given.containsKey(f)) {
            throw new VmException("gfn 0x" + Long.toHexString(f) + " was not given to the vGPU of VM " + g.vm.name()
                    + ": accepted a gfn given with gpu:give (" + given.size() + " given now)");
        }
        g.revoke(f);
        return GpuFormat.change(json, g.vm.name(), "took back gfn 0x" + Long.toHexString(f));
    }

    @Descriptor("point a GPU context (0 to 3) at its level-4 page table (0: none); the tables it reaches are"
            + " shadowed and write-protected")
    public String root(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("VM name") String vm,
            @Descriptor("GPU context, 0 to 3") String context,
            @Descriptor("guest frame of the level-4 table, or 0") String gfn) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "root");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        int c = (int) Numbers.parse(context, "CONTEXT");
        long f = Numbers.parse(gfn, "GFN");
        if (f != 0) {
            guestGfn(g.vm, gfn); // 0 detaches; any other root must be guest memory
        }
        g.setRoot(c, f);
        return GpuFormat.change(json, g.vm.name(), "context " + c + " root 0x" + Long.toHexString(f) + ", "
                + g.stats().trackedPages() + " table page(s) shadowed");
    }

    @Descriptor("run the batch at a GPU virtual address of a context (commands of 32 bytes: 1 FILL dst len pattern,"
            + " 2 COPY src dst len, 0 END), through the shadow page tables only")
    public String submit(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") String jsonFlag,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") String helpFlag,
            @Descriptor("VM name") String vm,
            @Descriptor("GPU context, 0 to 3") String context,
            @Descriptor("GPU virtual address of the batch, 0x hex or decimal") String gva) {
        boolean json = "true".equals(jsonFlag);
        boolean help = "true".equals(helpFlag);
        if (help) {
            return GpuUsage.of(getClass(), "submit");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        int n = g.submit((int) Numbers.parse(context, "CONTEXT"), Numbers.parse(gva, "GVA"));
        return GpuFormat.change(json, g.vm.name(), "ran " + n + " command(s)");
    }

    /** A gfn the VM has memory at, or one line naming the slots there are. */
    private static long guestGfn(Vm vm, String text) {
        long f = Numbers.parse(text, "GFN");
        if (vm.slotForGfn(f) == null) {
            StringBuilder slots = new StringBuilder();
            for (var s : vm.memslots()) {
                slots.append(slots.length() == 0 ? "" : ", ").append("[0x").append(Long.toHexString(s.baseGfn()))
                        .append(", 0x").append(Long.toHexString(s.endGfn())).append(')');
            }
            throw new VmException("gfn 0x" + Long.toHexString(f) + " is in no memslot of VM " + vm.name()
                    + ": accepted a gfn in " + (slots.length() == 0 ? "a slot (the VM has none)" : slots));
        }
        return f;
    }

    /** --table: a page-table level, 1 to 4 (absent: a data page). */
    private static int tableLevel(String text) {
        long l = Numbers.parse(text, "LEVEL");
        if (l < 1 || l > 4) {
            throw new VmException("bad --table " + text.trim() + ": accepted a page-table level, 1 (leaf) to 4 (root);"
                    + " leave --table out to give a data page");
        }
        return (int) l;
    }

    /** Registers the gpu-driver scenario only if the guest API is wired to this bundle (an optional import). */
    static final class ScenarioRegistration {
        private ScenarioRegistration() {
        }

        static ServiceRegistration<?> register(BundleContext context, Gpus gpus) {
            try {
                Class.forName("org.shadowbox.guest.Scenario", false, GpuCommands.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                LOG.log(Level.DEBUG, "org.shadowbox.gpu: no guest bundle wired, so no gpu-driver scenario"
                        + " (install org.shadowbox.guest, then refresh this bundle)");
                return null;
            }
            return context.registerService("org.shadowbox.guest.Scenario", new GpuDriverScenario(gpus), null);
        }
    }
}
