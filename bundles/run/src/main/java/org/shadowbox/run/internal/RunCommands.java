package org.shadowbox.run.internal;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.command.Json;
import org.shadowbox.command.Usage;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.meter.MmuMeter;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * {@code run:list}, {@code run:scenario} and {@code run:compare}. As the shell's commands:
 * {@code --json} and {@code --help} on each, one line for a mistake (nothing changed). Results
 * are Strings, which Gogo prints as they are. The cost model is this component's configuration
 * (PID {@value CostModel#PID}); a changed configuration re-activates it.
 */
@Component(service = RunCommands.class, configurationPid = CostModel.PID, property = {"osgi.command.scope=run",
        "osgi.command.function=list", "osgi.command.function=scenario", "osgi.command.function=compare"})
@Designate(ocd = CostConfig.class)
public final class RunCommands {
    static final String ON = "true";
    static final String OFF = "false";
    static final String JSON = "print the result as one JSON value";
    static final String HELP = "show this help";
    static final String SCALE = "work size, 1 or more (default: the scenario's own, run:list shows it)";
    static final String SEED = "the seed every guest decision derives from (default 1): same seed, same run";
    static final String THREADS = "host threads driving the vCPUs, vCPU v on thread v % N (default 1: all vCPUs"
            + " interleaved in an order drawn from the seed, deterministic; more: an SMP guest whose counts vary run to run)";

    private final Hypervisor hypervisor;
    private final Simulator sim;
    private final CostModel model;
    private final BundleContext context;

    @Activate
    public RunCommands(@Reference Hypervisor hypervisor, @Reference Mmu mmu, @Reference MmuMeter meter,
            @Reference ScenarioRunner runner, @Reference PageTrack pageTrack, BundleContext context, CostConfig config) {
        this(hypervisor, new Simulator(hypervisor, mmu, meter, runner, pageTrack), CostModel.of(config), context);
    }

    RunCommands(Hypervisor hypervisor, Simulator sim, CostModel model, BundleContext context) {
        this.hypervisor = hypervisor;
        this.sim = sim;
        this.model = model;
        this.context = context;
    }

    @Descriptor("the scenarios there are: name, default scale, what it does")
    public String list(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help) {
        if (ON.equals(help)) {
            return usage("list");
        }
        List<Object> rows = new ArrayList<>();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-14s %6s  %s", "SCENARIO", "SCALE", "DESCRIPTION"));
        for (Scenario s : sim.runner().scenarios()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("default_scale", s.defaultScale());
            m.put("description", s.description());
            rows.add(m);
            sb.append(String.format(Locale.ROOT, "%n%-14s %6d  %s", s.name(), s.defaultScale(), s.description()));
        }
        return ON.equals(json) ? Json.encode(rows, false) : sb.toString();
    }

    @Descriptor("run a scenario on a VM through its MMU and print the simulated real, user and sys time, the work"
            + " charged for it and the event counts")
    public String scenario(
            @Descriptor(SCALE) @Parameter(names = "--scale", absentValue = "") String scale,
            @Descriptor(SEED) @Parameter(names = "--seed", absentValue = "") String seed,
            @Descriptor(THREADS) @Parameter(names = "--threads", absentValue = "1") String threads,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the scenario (run:list)") String scenario) {
        if (ON.equals(help)) {
            return usage("scenario");
        }
        Vm v = vm(vm);
        long sc = scale(scale);
        long sd = seed(seed);
        int th = threads(threads, v.vcpuCount(), "the VM's vCPUs");
        sim.runner().scenario(scenario);
        ProgressBar bar = progressBar();
        RunReport r;
        try {
            r = sim.run(v, scenario, sc, sd, th, model, bar == null ? null : bar.start(scenario));
        } finally {
            if (bar != null) {
                bar.done();
            }
        }
        return ON.equals(json) ? Json.encode(ReportData.json(r), false) : ReportText.text(r);
    }

    @Descriptor("the seed's experiment: two fresh VMs (" + Simulator.COMPARE_VCPUS + " vCPUs, 1 GiB each) run the same"
            + " scenario and seed, one with policy legacy and one with policy pagetrack; prints real, user, sys and the"
            + " event counts side by side with the change, checks the guest saw the same, and writes JSON, CSV and an"
            + " SVG chart to workspace/results/")
    public String compare(
            @Descriptor(SCALE) @Parameter(names = "--scale", absentValue = "") String scale,
            @Descriptor(SEED) @Parameter(names = "--seed", absentValue = "") String seed,
            @Descriptor("how both VMs are virtualized: shadow (default, the seed's setting) or tdp")
            @Parameter(names = "--mmu", absentValue = VmSpec.MMU_SHADOW) String mmu,
            @Descriptor(THREADS) @Parameter(names = "--threads", absentValue = "1") String threads,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the scenario (run:list)") String scenario) {
        if (ON.equals(help)) {
            return usage("compare");
        }
        long sc = scale(scale);
        long sd = seed(seed);
        int th = threads(threads, Simulator.COMPARE_VCPUS, "each compared VM's vCPUs");
        sim.runner().scenario(scenario);
        if (!VmSpec.MMU_SHADOW.equals(mmu) && !VmSpec.MMU_TDP.equals(mmu)) {
            throw new VmException("bad --mmu '" + mmu + "': accepted shadow or tdp");
        }
        ProgressBar bar = progressBar();
        Comparison c = sim.compare(scenario, sc, sd, mmu, th, model, bar);
        List<Path> paths = ResultFiles.paths(ResultFiles.resultsDir(property("shadowbox.workspace")), scenario,
                c.before().seed(), LocalDateTime.now());
        List<String> files = new ArrayList<>();
        for (Path p : paths) {
            files.add(p.toString());
        }
        ResultFiles.write(paths, List.of(Json.encode(ReportData.json(c, files), true), ReportData.csv(c),
                ReportChart.svg(c)));
        if (c.comparable() && !c.identical()) {
            throw new VmException("the guest saw different results under legacy and pagetrack (an MMU bug; report in "
                    + files.get(0) + "): " + String.join("; ", c.differences()));
        }
        return ON.equals(json) ? Json.encode(ReportData.json(c, files), false) : ReportText.text(c, files);
    }

    /** Gogo's fallback when no method fits the arguments: the usage for --help, else one line saying what is wrong. */
    @Descriptor("not a command: Gogo's fallback when no method fits the arguments")
    public String _main(String command, String[] args) {
        Method m = Usage.method(getClass(), command);
        if (m == null) {
            throw new VmException("run:" + command + ": no such command; accepted run:list, run:scenario, run:compare");
        }
        for (String a : args) {
            if ("--help".equals(a)) {
                return Usage.render("run", m);
            }
        }
        throw new VmException(Usage.diagnose("run", m, args));
    }

    String usage(String command) {
        return Usage.render("run", Usage.method(getClass(), command));
    }

    private ProgressBar progressBar() {
        return ProgressBar.quiet(this::property) ? null : new ProgressBar(System.out);
    }

    private String property(String key) {
        return context == null ? System.getProperty(key) : context.getProperty(key);
    }

    private Vm vm(String name) {
        if (name == null || name.isBlank()) {
            throw new VmException("missing VM: give a VM name (vm:list shows them)");
        }
        return hypervisor.require(name.trim());
    }

    /** The --scale value: 0 (absent: the scenario's default) or 1 or more. */
    static long scale(String s) {
        if (s.isEmpty()) {
            return 0;
        }
        long n = number(s, "scale", "1 or more, 0x hex or decimal");
        if (n < 1) {
            throw new VmException("bad scale '" + s + "': accepted 1 or more, 0x hex or decimal");
        }
        return n;
    }

    /** The --threads value: 1 to {@code vcpus}. */
    static int threads(String s, int vcpus, String whose) {
        String accepted = "1 to " + vcpus + " (" + whose + ")";
        long n;
        try {
            n = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new VmException("bad --threads '" + s + "': accepted " + accepted);
        }
        if (n < 1 || n > vcpus) {
            throw new VmException("bad --threads '" + s + "': accepted " + accepted);
        }
        return (int) n;
    }

    static long seed(String s) {
        return s.isEmpty() ? Simulator.DEFAULT_SEED : number(s, "seed", "a 64-bit number, 0x hex or decimal");
    }

    private static long number(String s, String what, String accepted) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("0x")) {
                return Long.parseUnsignedLong(t.substring(2), 16);
            }
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new VmException("bad " + what + " '" + s + "': accepted " + accepted);
        }
    }
}
