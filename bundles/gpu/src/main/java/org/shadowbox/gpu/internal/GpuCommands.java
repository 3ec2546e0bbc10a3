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
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;

/**
 * The vGPU plugin: {@code gpu:list}, {@code gpu:attach}, {@code gpu:detach}, {@code gpu:tables},
 * {@code gpu:stats}, the tracker's notifier (attached to every VM; it ignores VMs with no vGPU)
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
        "osgi.command.function=stats" })
public final class GpuCommands {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.gpu");
    private static final String JSON = "print one JSON value instead of text";
    private static final String HELP = "show this help";

    private final Hypervisor hypervisor;
    private final Gpus gpus;
    private final ServiceRegistration<PageTrackNotifier> notifier;
    private final ServiceRegistration<?> scenario;

    @Activate
    public GpuCommands(@Reference Hypervisor hypervisor, @Reference PageTrack pageTrack, BundleContext context) {
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
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") boolean help) {
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
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") boolean help,
            @Descriptor("VM name") String vm) {
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
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") boolean help,
            @Descriptor("VM name") String vm) {
        if (help) {
            return GpuUsage.of(getClass(), "detach");
        }
        Vm v = hypervisor.require(vm);
        gpus.detach(v);
        return GpuFormat.change(json, v.name(), "detached");
    }

    @Descriptor("show a VM's shadow GPU page tables: the contexts' roots and each shadowed table")
    public String tables(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") boolean help,
            @Descriptor("VM name") String vm) {
        if (help) {
            return GpuUsage.of(getClass(), "tables");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        return json ? GpuFormat.jsonTables(g.vm.name(), g.roots(), g.tables())
                : GpuFormat.textTables(g.vm.name(), g.roots(), g.tables());
    }

    @Descriptor("show a VM's vGPU counters: tracked pages, writes handled, rejections, violations, rebuilds, batches")
    public String stats(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = "true", absentValue = "false") boolean help,
            @Descriptor("VM name") String vm) {
        if (help) {
            return GpuUsage.of(getClass(), "stats");
        }
        VGpu g = gpus.require(hypervisor.require(vm));
        return json ? GpuFormat.jsonStats(g.vm.name(), g.stats()) : GpuFormat.textStats(g.vm.name(), g.stats());
    }

    /** Registers the gpu-driver scenario only if the guest API is wired to this bundle (an optional import). */
    static final class ScenarioRegistration {
        private ScenarioRegistration() {
        }

        static ServiceRegistration<?> register(BundleContext context, Gpus gpus) {
            try {
                Class.forName("org.shadowbox.guest.Scenario", false, GpuCommands.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                LOG.log(Level.INFO, "org.shadowbox.gpu: no guest bundle wired, so no gpu-driver scenario"
                        + " (install org.shadowbox.guest, then refresh this bundle)");
                return null;
            }
            return context.registerService("org.shadowbox.guest.Scenario", new GpuDriverScenario(gpus), null);
        }
    }
}
