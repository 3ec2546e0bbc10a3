package org.shadowbox.run.internal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Job;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.command.CommandBase;
import org.shadowbox.command.Json;
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
 * (PID {@value CostModel#PID}); a changed configuration applies to the runs started after it.
 * The component is immediate: Gogo gets and ungets it at every call, and a delayed component
 * would be disposed in between, taking the background runs with it.
 */
@Component(service = RunCommands.class, immediate = true, configurationPid = CostModel.PID, property = {"osgi.command.scope=run",
        "osgi.command.function=list", "osgi.command.function=scenario", "osgi.command.function=compare",
        "osgi.command.function=jobs", "osgi.command.function=report", "osgi.command.function=stop"})
@Designate(ocd = CostConfig.class)
public final class RunCommands extends CommandBase {
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
    /** The cost model in force; a run takes the one of its start. */
    private volatile CostModel model;
    private final BundleContext context;
    private final RunJobs jobs = new RunJobs();

    @Activate
    public RunCommands(@Reference Hypervisor hypervisor, @Reference Mmu mmu, @Reference MmuMeter meter,
            @Reference ScenarioRunner runner, @Reference PageTrack pageTrack, BundleContext context, CostConfig config) {
        this(hypervisor, new Simulator(hypervisor, mmu, meter, runner, pageTrack), CostModel.of(config), context);
    }

    RunCommands(Hypervisor hypervisor, Simulator sim, CostModel model, BundleContext context) {
        super("run");
        this.hypervisor = hypervisor;
        this.sim = sim;
        this.model = model;
        this.context = context;
    }

    /**
     * A changed cost model applies from the next run on; the component stays (immediate, with a
     * modified method), so that background runs and their ids survive it and Gogo's calls.
     */
    @Modified
    void modified(CostConfig config) {
        model = CostModel.of(config);
    }

    /** Background runs are stopped when the component goes (the bundle stops). */
    @Deactivate
    void deactivate() throws InterruptedException {
        jobs.close();
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
            @Descriptor("return once the guest has booted and run on in the background (run:jobs, run:report N, run:stop N)")
            @Parameter(names = "--background", presentValue = ON, absentValue = OFF) String background,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the scenario (run:list)") String scenario) throws InterruptedException {
        if (ON.equals(help)) {
            return usage("scenario");
        }
        Vm v = vm(vm);
        long sc = scale(scale);
        long sd = seed(seed);
        int th = threads(threads, v.vcpuCount(), "the VM's vCPUs");
        check(scenario, sc);
        if (ON.equals(background)) {
            busy(v);
            RunJobs.Job j = jobs.start(v.name(), scenario, p -> sim.run(v, scenario, sc, sd, th, model, p));
            if (j.report == null && j.finished.getCount() == 0) {
                jobs.forget(j.id); // it never ran: the command fails, as the same run in the foreground would
                throw new VmException(j.error);
            }
            String line = "run " + j.id + ": " + scenario + " on " + v.name() + " started in the background (run:jobs"
                    + " shows it, run:report " + j.id + " gives its report, run:stop " + j.id + " stops it)";
            return ON.equals(json) ? Json.encode(jobRow(j), false) : line;
        }
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
        check(scenario, sc);
        if (!VmSpec.MMU_SHADOW.equals(mmu) && !VmSpec.MMU_TDP.equals(mmu)) {
            throw new VmException("bad --mmu '" + mmu + "': accepted shadow or tdp");
        }
        ProgressBar bar = progressBar();
        Comparison c = sim.compare(scenario, sc, sd, mmu, th, model, bar);
        List<Path> paths = ResultFiles.paths(ResultFiles.resultsDir(property("shadowbox.workspace")), scenario, mmu,
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

    @Descriptor("the background runs of this session: state, progress, guest accesses so far")
    public String jobs(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help) {
        if (ON.equals(help)) {
            return usage("jobs");
        }
        List<Object> rows = new ArrayList<>();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%3s  %-10s %-14s %-8s %5s %14s  %s", "ID",
                "VM", "SCENARIO", "STATE", "DONE", "ACCESSES", "STARTED"));
        for (RunJobs.Job j : jobs.list()) {
            rows.add(jobRow(j));
            sb.append(String.format(Locale.ROOT, "%n%3d  %-10s %-14s %-8s %4d%% %14d  %s", j.id, j.vm, j.scenario,
                    j.state(), j.percent(), j.accesses, j.started));
        }
        if (rows.isEmpty() && !ON.equals(json)) {
            return "no background runs (run:scenario VM SCENARIO --background starts one)";
        }
        return ON.equals(json) ? Json.encode(rows, false) : sb.toString();
    }

    @Descriptor("the report of a background run, once it has ended: waits for it (Ctrl-C stops the waiting, not the run)")
    public String report(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the run's id (run:jobs)") String id) throws InterruptedException {
        if (ON.equals(help)) {
            return usage("report");
        }
        RunReport r = jobs.await(jobId(id));
        return ON.equals(json) ? Json.encode(ReportData.json(r), false) : ReportText.text(r);
    }

    @Descriptor("stop a background run at its next progress report; the guest stays as it was, the VM runs on")
    public String stop(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the run's id (run:jobs)") String id) {
        if (ON.equals(help)) {
            return usage("stop");
        }
        RunJobs.Job j = jobs.stop(jobId(id));
        if (ON.equals(json)) {
            return Json.encode(jobRow(j), false);
        }
        return "run " + j.id + " (" + j.scenario + " on " + j.vm + "): " + j.state();
    }

    private static Map<String, Object> jobRow(RunJobs.Job j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id);
        m.put("vm", j.vm);
        m.put("scenario", j.scenario);
        m.put("state", j.state());
        m.put("percent", j.percent());
        m.put("accesses", j.accesses);
        m.put("started", j.started.toString());
        m.put("error", j.error);
        return m;
    }

    private int jobId(String id) {
        String t = id == null ? "" : id.trim();
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            throw new VmException("bad run id '" + t + "': accepted the number run:jobs shows");
        }
    }

    /** The scenario exists and runs at this scale ({@code 0}: its default): checked before anything starts. */
    private void check(String scenario, long scale) {
        Scenario s = sim.runner().scenario(scenario);
        s.check(scale > 0 ? scale : s.defaultScale());
    }

    /** Refuses at once, in the shell, a background run on a VM whose vCPUs something drives. */
    private static void busy(Vm v) {
        for (int i = 0; i < v.vcpuCount(); i++) {
            String who = v.vcpu(i).claimedBy();
            if (who != null) {
                throw new VmException("vCPU " + i + " of VM " + v.name() + " is busy: " + who
                        + "; accepted: a VM nothing else is driving (run:jobs shows background runs)");
            }
        }
    }

    private ProgressBar progressBar() {
        if (ProgressBar.quiet(this::property)) {
            return null;
        }
        Job job = Job.Utils.current(); // the shell job running this command, if any: captured on its thread
        return new ProgressBar(System.out, () -> job != null && job.status() == Job.Status.Background);
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
