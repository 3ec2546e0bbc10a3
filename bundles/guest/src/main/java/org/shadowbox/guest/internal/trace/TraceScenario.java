package org.shadowbox.guest.internal.trace;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.shadowbox.guest.RecordedWorkload;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Task;
import org.shadowbox.guest.internal.scenario.GuestScenario;
import org.shadowbox.vm.VmException;

/**
 * A recorded workload replayed (docs/replay.md): every recorded process re-enacted on the
 * guest kernel model, as many at once as the recording's own forks, waits and vforks allow.
 * {@code trace:FILE} on the command line, and the shipped {@code linux-build}.
 */
public final class TraceScenario extends GuestScenario implements RecordedWorkload {
    /**
     * Guest accesses charged per recorded CPU microsecond. At the default cost model (3,000 MHz,
     * 3 cycles per access) that charges the recorded time itself; the figure is fixed here, before
     * any comparison, and changes of the per-access cost scale it exactly as they scale a
     * per-access replay.
     */
    public static final double ACCESSES_PER_US = 1000;

    private final String name;
    private final String description;
    private final Supplier<Trace> source;
    private final boolean perAccess;
    private final double accessesPerUs;
    private volatile Trace trace;

    private TraceScenario(String name, String description, Supplier<Trace> source, boolean perAccess, double accessesPerUs) {
        this.name = name;
        this.description = description;
        this.source = source;
        this.perAccess = perAccess;
        this.accessesPerUs = accessesPerUs;
    }

    /** {@code trace:FILE}: the trace at {@code file}, read on first use. */
    public static TraceScenario ofFile(String name, Path file) {
        return new TraceScenario(name, "replay of the trace " + file, () -> readFile(file), false, ACCESSES_PER_US);
    }

    /** A trace from a stream (a bundle resource), read on first use. */
    public static TraceScenario ofStream(String name, String description, String source, Supplier<InputStream> in) {
        return new TraceScenario(name, description, () -> {
            try (InputStream s = in.get()) {
                if (s == null) {
                    throw new VmException("trace " + source + " is missing from the bundle");
                }
                return read(s, source);
            } catch (IOException e) {
                throw new VmException("trace " + source + ": " + e.getMessage());
            }
        }, false, ACCESSES_PER_US);
    }

    /**
     * The same trace replayed with CPU time charged at {@code accessesPerUs}, in aggregate
     * ({@code perAccess} false) or as that many real TLB-hit accesses one by one (true): the
     * check of the split.
     */
    public TraceScenario with(boolean perAccessReplay, double perUs) {
        TraceScenario s = new TraceScenario(name, description, this::trace, perAccessReplay, perUs);
        return s;
    }

    /** Reads and checks the trace now (a bad file is refused in one line before any VM is touched). */
    public TraceScenario load() {
        trace();
        return this;
    }

    Trace trace() {
        Trace t = trace;
        if (t == null) {
            synchronized (this) {
                t = trace;
                if (t == null) {
                    t = source.get();
                    trace = t;
                }
            }
        }
        return t;
    }

    static Trace readFile(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new VmException("trace " + file + ": no such file; accepted trace:PATH of a file tools/record.sh wrote");
        } catch (IOException e) {
            throw new VmException("trace " + file + ": cannot read it: " + e.getMessage());
        }
    }

    private static Trace read(InputStream in, String source) {
        try {
            return TraceReader.read(in, source);
        } catch (TraceException e) {
            throw new VmException(e.getMessage());
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public long defaultScale() {
        return 1;
    }

    /** The recorded processes: a trace replays as recorded, at scale 1 only (checked before anything runs). */
    @Override
    protected int size(long scale) {
        if (scale != 1) {
            throw new VmException("scale " + scale + " for " + name + ": a trace replays as recorded; accepted scale 1");
        }
        return trace().processes().size();
    }

    @Override
    protected long start(Kernel k, long scale, SplittableRandom rng) {
        size(scale);
        if (k.smp()) {
            throw new VmException(name + " replays on one host thread (vfork shares an address space): accepted --threads 1");
        }
        Trace t = trace();
        ReplayRun run = new ReplayRun(k, t, perAccess, accessesPerUs);
        if (!perAccess) {
            k.aggregateDataCopies();
        }
        current = run;
        Replay root = new Replay(run, t.processes().get(0));
        Task task = k.spawn(run.rootImage(), root);
        root.imageAreas(task);
        return t.processes().size();
    }

    private volatile ReplayRun current;

    /**
     * The last replay's figures beside the recorded ones: processes, execs, first touches
     * (recorded minor faults), CPU time; then what the replay could not re-enact exactly.
     */
    @Override
    public Map<String, Object> report() {
        ReplayRun run = current;
        Trace t = trace();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trace", t.source());
        m.put("recorded_processes", (long) t.processes().size());
        m.put("recorded_execs", t.count(TraceProcess.EXEC));
        m.put("recorded_minor_faults", Math.round(t.measured("minflt")));
        m.put("recorded_cpu_us", t.measuredCpuUs());
        m.put("recorded_wall_us", Math.round(t.measured("wall_s") * 1e6));
        if (run != null) {
            m.put("replayed_exits", run.exits());
            m.put("accesses_per_us", accessesPerUs);
            m.put("per_access", perAccess);
            m.putAll(run.stats.asMap());
        }
        return m;
    }
}
