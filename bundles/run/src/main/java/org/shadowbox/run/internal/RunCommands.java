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
import org.shadowbox.command.ShellTerminal;
import org.shadowbox.guest.RecordedWorkload;
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
    static final String WARMUP = "units (processes done) run first and not charged, so the charged window starts in steady"
            + " state (default: 0 for run:scenario, a quarter of the scenario's units for run:compare)";
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
            @Reference ScenarioRunner runner, @Reference PageTrack pageTrack, BundleContext context, CostConfig config,
            Map<String, Object> props) {
        this(hypervisor, new Simulator(hypervisor, mmu, meter, runner, pageTrack), CostModel.defaults(), context);
        modified(config, props);
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
    void modified(CostConfig config, Map<String, Object> props) {
        try {
            CostModel.validate(props);
            model = CostModel.of(config);
            configError = null;
        } catch (VmException e) {
            configError = e.getMessage() + "; the previous cost model stays in force";
            System.err.println(configError);
        }
    }

    /** The cost model in force (the next run's). */
    CostModel model() {
        return model;
    }

    /** The last refused cost configuration's one line (null when the last one was taken); reports start with it. */
    private volatile String configError;

    /** {@code report} with the refused configuration's line first, if there is one. */
    private String warned(String report) {
        String e = configError;
        return e == null ? report : e + "\n" + report;
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
            @Descriptor(WARMUP) @Parameter(names = "--warmup", absentValue = "0") String warmup,
            @Descriptor("return once the guest has booted and run on in the background (run:jobs, run:report N, run:stop N)")
            @Parameter(names = "--background", presentValue = ON, absentValue = OFF) String background,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the scenario (run:list), or trace:FILE to replay a trace tools/record.sh wrote (docs/replay.md)") String scenario) throws InterruptedException {
        if (ON.equals(help)) {
            return usage("scenario");
        }
        Vm v = vm(vm);
        long sc = scale(scale);
        long sd = seed(seed);
        int th = threads(threads, v.vcpuCount(), "the VM's vCPUs");
        long wu = warmup(warmup);
        Scenario named = sim.runner().scenario(scenario);
        check(scenario, sc);
        sim.runner().checkFits(scenario, v, sc > 0 ? sc : named.defaultScale()); // before the guest boots, even in the background
        if (ON.equals(background)) {
            busy(v);
            RunJobs.Job j = jobs.start(v.name(), scenario, job -> {
                RunReport done = sim.run(v, scenario, sc, sd, th, wu, model, job);
                job.file = save(v.name(), done, named); // saved when it ends, whether or not run:report asks
                return done;
            });
            if (j.report == null && j.finished.getCount() == 0) {
                jobs.forget(j.id); // it never ran: the command fails, as the same run in the foreground would
                throw new VmException(j.error);
            }
            String line = "run " + j.id + ": " + scenario + " on " + v.name() + " started in the background (run:jobs"
                    + " shows it, run:report " + j.id + " gives its report, run:stop " + j.id + " stops it)";
            return ON.equals(json) ? Json.encode(jobRow(j), false) : line;
        }
        RunReport r;
        try (ForegroundRun fg = new ForegroundRun(jobs.nextId(), progressBar(), 1)) {
            r = sim.run(v, scenario, sc, sd, th, wu, model, fg.start(scenario));
        } catch (ForegroundRun.Stopped e) {
            throw new VmException(e.getMessage() + ": guest left as it was (VM " + v.name() + " runs on)");
        }
        String file = save(v.name(), r, named);
        return reportText(r, named, file, json);
    }

    /** The report of a finished run as run:scenario and run:report print it, with the file it was saved to. */
    private String reportText(RunReport r, Scenario named, String file, String json) {
        Map<String, Object> rec = named instanceof RecordedWorkload rw ? rw.report() : null;
        if (ON.equals(json)) {
            Map<String, Object> m = new LinkedHashMap<>(ReportData.json(r));
            if (rec != null) {
                m.put("recorded", rec);
            }
            m.put("file", file);
            return Json.encode(m, false);
        }
        String text = ReportText.text(r);
        if (rec != null) {
            text += System.lineSeparator() + RecordedText.text(rec, r.counts());
        }
        return warned(text + System.lineSeparator() + (file == null ? "report not saved (see the log)" : "report saved to " + file));
    }

    /**
     * Saves a run:scenario report as JSON in workspace/results/ and returns its path; a report that
     * cannot be written is not an error of the run (its one line goes to the log), and gives null.
     */
    private String save(String vmName, RunReport r, Scenario named) {
        try {
            Map<String, Object> m = new LinkedHashMap<>(ReportData.json(r));
            if (named instanceof RecordedWorkload rw) {
                m.put("recorded", rw.report());
            }
            Path p = ResultFiles.reportPath(ResultFiles.resultsDir(property("shadowbox.workspace")), vmName, r.scenario(),
                    r.seed(), LocalDateTime.now());
            ResultFiles.write(List.of(p), List.of(Json.encode(m, true)));
            pruneResults();
            return p.toString();
        } catch (VmException e) {
            System.getLogger(RunCommands.class.getName()).log(System.Logger.Level.WARNING, e.getMessage());
            return null;
        }
    }

    @Descriptor("the seed's experiment: two fresh VMs (by default " + Simulator.COMPARE_VCPUS + " vCPUs and "
            + (Simulator.COMPARE_MEMORY >> 30) + " GiB each, " + Simulator.COMPARE_SCALE_FACTOR + " x the scenario's scale,"
            + " the first quarter of its units an uncharged warm-up; a calibration run at a quarter of that first"
            + " predicts the change, except for a recorded trace, whose interval comes from its own counts) run the same"
            + " scenario and seed at the same time, one with policy legacy and one with policy pagetrack; prints real, user, sys and the"
            + " event counts side by side with the change, checks the guest saw the same, and writes JSON, CSV and an"
            + " SVG chart to workspace/results/")
    public String compare(
            @Descriptor(SCALE) @Parameter(names = "--scale", absentValue = "") String scale,
            @Descriptor(SEED) @Parameter(names = "--seed", absentValue = "") String seed,
            @Descriptor("how both VMs are virtualized: shadow (default, the seed's setting) or tdp")
            @Parameter(names = "--mmu", absentValue = VmSpec.MMU_SHADOW) String mmu,
            @Descriptor(THREADS) @Parameter(names = "--threads", absentValue = "1") String threads,
            @Descriptor("vCPUs of each compared VM (1 to 64)")
            @Parameter(names = "--vcpus", absentValue = "") String vcpus,
            @Descriptor("guest memory of each compared VM: 16M to 64G (K, M, G suffixes)")
            @Parameter(names = "--memory", absentValue = "") String memory,
            @Descriptor(WARMUP) @Parameter(names = "--warmup", absentValue = "") String warmup,
            @Descriptor("only the prediction: the calibration run, the interval of the sys and real change every figure's"
                    + " cited range allows, and the figures that move it most; the full comparison is not run (a recorded"
                    + " trace has no calibration run: its comparison runs, and only the interval its counts give is printed)")
            @Parameter(names = "--predict", presentValue = ON, absentValue = OFF) String predict,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the scenario (run:list), or trace:FILE to replay a trace tools/record.sh wrote (docs/replay.md)") String scenario) {
        if (ON.equals(help)) {
            return usage("compare");
        }
        Scenario named = sim.runner().scenario(scenario);
        // A recorded trace replays as recorded (scale 1); a synthetic scenario runs at the compare's larger scale.
        long sc = !scale.isEmpty() ? scale(scale)
                : named instanceof RecordedWorkload ? named.defaultScale()
                : Simulator.COMPARE_SCALE_FACTOR * named.defaultScale();
        long sd = seed(seed);
        int vc = vcpus.isEmpty() ? Simulator.COMPARE_VCPUS : vcpus(vcpus);
        long mem = memory.isEmpty() ? Simulator.COMPARE_MEMORY : memory(memory);
        long wu = warmup.isEmpty() ? Simulator.COMPARE_WARMUP : warmup(warmup);
        int th = threads(threads, vc, "each compared VM's vCPUs");
        check(scenario, sc);
        if (!VmSpec.MMU_SHADOW.equals(mmu) && !VmSpec.MMU_TDP.equals(mmu)) {
            throw new VmException("bad --mmu '" + mmu + "': accepted shadow or tdp");
        }
        sim.checkFits(scenario, sc, vc, mem, mmu); // both runs at once, before the calibration
        Prediction pred;
        Comparison c;
        // A recorded workload replays at scale 1 only: no smaller calibration run exists, and a
        // full-size one would double the time to say the same; its interval comes from its own
        // counts. Otherwise the calibration's pair of runs, then (unless --predict) the
        // comparison's pair; each pair runs at once (one progress bar per pair).
        boolean recorded = named instanceof RecordedWorkload;
        try (ForegroundRun fg = new ForegroundRun(jobs.nextId(), progressBar(), recorded || ON.equals(predict) ? 1 : 2)) {
            CostModel m = model; // the calibration and the full run are charged by the same figures
            if (recorded) {
                c = sim.compare(scenario, sc, sd, mmu, th, vc, mem, wu, m, fg);
                pred = Prediction.ofRun(c, m);
            } else {
                pred = sim.predict(scenario, sc, sd, mmu, th, vc, mem, wu, m, fg);
                c = null;
            }
            if (ON.equals(predict)) {
                return ON.equals(json) ? Json.encode(pred.json(), false) : warned(pred.text(Integer.MAX_VALUE));
            }
            if (c == null) {
                c = sim.compare(scenario, sc, sd, mmu, th, vc, mem, wu, m, fg);
            }
        } catch (ForegroundRun.Stopped e) {
            throw new VmException(e.getMessage() + ": nothing written, both compared VMs removed");
        }
        List<Path> paths = ResultFiles.paths(ResultFiles.resultsDir(property("shadowbox.workspace")), scenario, mmu,
                c.before().seed(), LocalDateTime.now());
        List<String> files = new ArrayList<>();
        for (Path p : paths) {
            files.add(p.toString());
        }
        ResultFiles.write(paths, List.of(Json.encode(ReportData.json(c, files, pred), true), ReportData.csv(c),
                ReportChart.svg(c, pred)));
        pruneResults();
        if (c.comparable() && !c.identical()) {
            throw new VmException("the guest saw different results under legacy and pagetrack (an MMU bug; report in "
                    + files.get(0) + "): " + String.join("; ", c.differences()));
        }
        if (named instanceof RecordedWorkload rw) {
            Map<String, Object> rec = rw.report();
            if (ON.equals(json)) {
                Map<String, Object> m = new LinkedHashMap<>(ReportData.json(c, files, pred));
                m.put("recorded", rec);
                return Json.encode(m, false);
            }
            return warned(ReportText.text(c, files, pred) + System.lineSeparator() + RecordedText.text(rec, c.after().counts()));
        }
        return ON.equals(json) ? Json.encode(ReportData.json(c, files, pred), false) : warned(ReportText.text(c, files, pred));
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
        if (jobs.dropped() > 0) {
            sb.append(String.format(Locale.ROOT, "%n(%d older finished runs dropped: run:jobs keeps the newest %d;"
                    + " their reports are in workspace/results)", jobs.dropped(), jobs.keepFinished()));
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
        int n = jobId(id);
        RunReport r = jobs.await(n);
        Map<String, Object> m = new LinkedHashMap<>(ReportData.json(r));
        String file = jobs.require(n).file;
        if (ON.equals(json)) {
            m.put("file", file);
            return Json.encode(m, false);
        }
        return ReportText.text(r) + System.lineSeparator() + (file == null ? "report not saved (see the log)" : "report saved to " + file);
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
        // The terminal itself, not System.out: Gogo's pipe does not pass a flush on to the
        // terminal, so a bar redrawn with "\r" there was never seen (ShellTerminal says more).
        PrintStream terminal = ShellTerminal.output();
        if (terminal == null) {
            return null; // a dumb terminal (a pipe) or no shell job: nothing to redraw in place
        }
        Job job = Job.Utils.current(); // the shell job running this command: captured on its thread
        return new ProgressBar(terminal, () -> job != null && job.status() == Job.Status.Background);
    }

    /**
     * workspace/results keeps the newest results ({@link ResultFiles#prune}); what it removes is
     * one line in the log. A failure to prune is logged too: it is not the run's failure.
     */
    private void pruneResults() {
        System.Logger log = System.getLogger(RunCommands.class.getName());
        try {
            Path dir = ResultFiles.resultsDir(property("shadowbox.workspace"));
            int keep = ResultFiles.keep(property(ResultFiles.KEEP_PROPERTY));
            List<String> removed = ResultFiles.prune(dir, keep);
            if (!removed.isEmpty()) {
                log.log(System.Logger.Level.INFO, dir + " keeps the newest " + keep + " results ("
                        + ResultFiles.KEEP_PROPERTY + "): removed " + removed.size() + " older, the oldest "
                        + removed.get(0));
            }
        } catch (VmException e) {
            log.log(System.Logger.Level.WARNING, e.getMessage());
        }
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

    /** The --vcpus value: 1 to {@link VmSpec#MAX_VCPUS}. */
    static int vcpus(String s) {
        String accepted = "accepted 1 to " + VmSpec.MAX_VCPUS;
        try {
            long n = Long.parseLong(s.trim());
            if (n >= 1 && n <= VmSpec.MAX_VCPUS) {
                return (int) n;
            }
        } catch (NumberFormatException e) {
            // the one line below
        }
        throw new VmException("bad --vcpus '" + s + "': " + accepted);
    }

    /** The --memory value: 16M to 64G, bytes or with a K, M or G suffix (KiB, MiB, GiB). */
    static long memory(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        String accepted = "accepted 16M to 64G (a number with K, M or G, or bytes, a multiple of 4 KiB)";
        long unit = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            unit = t.endsWith("K") ? 1L << 10 : t.endsWith("M") ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        try {
            long n = Long.parseLong(t);
            if (n > 0 && n <= Simulator.MAX_MEMORY / unit) {
                long bytes = n * unit;
                if (bytes >= Simulator.MIN_MEMORY && (bytes & 0xfff) == 0) {
                    return bytes;
                }
            }
        } catch (NumberFormatException e) {
            // the one line below
        }
        throw new VmException("bad --memory '" + s + "': " + accepted);
    }

    /** The --warmup value: {@value Simulator#MIN_WARMUP} to {@value Simulator#MAX_WARMUP} units. */
    static long warmup(String s) {
        long n;
        try {
            n = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < Simulator.MIN_WARMUP || n > Simulator.MAX_WARMUP) {
            throw new VmException("bad --warmup '" + s + "': accepted " + Simulator.MIN_WARMUP + " to "
                    + Simulator.MAX_WARMUP + " units (processes done before the charged window opens)");
        }
        return n;
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
