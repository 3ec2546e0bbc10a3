package org.shadowbox.guest.internal.trace;

import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.shadowbox.guest.RecordedWorkload;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.ScenarioContext;

/**
 * {@code linux-build}: the seed's workload for real. A Linux 6.1 kernel build (tinyconfig,
 * {@code make -j2 vmlinux}) recorded on this project's machine by {@code tools/record-linux-build.sh},
 * shipped in this bundle with its provenance in the trace header, replayed by {@link TraceScenario}.
 */
@Component(service = Scenario.class)
public final class LinuxBuild implements Scenario, RecordedWorkload {
    static final String RESOURCE = "traces/linux-build.jsonl.gz";
    private final TraceScenario replay = TraceScenario.ofStream("linux-build",
            "a real Linux 6.1 kernel build (tinyconfig, make -j2 vmlinux), recorded with tools/record.sh and replayed",
            RESOURCE, () -> LinuxBuild.class.getClassLoader().getResourceAsStream(RESOURCE));

    @Override
    public String name() {
        return replay.name();
    }

    @Override
    public String description() {
        return replay.description();
    }

    @Override
    public long defaultScale() {
        return 1;
    }

    @Override
    public void run(ScenarioContext ctx) {
        replay.run(ctx);
    }

    @Override
    public Map<String, Object> report() {
        return replay.report();
    }

    /** The replay behind it (its report, its trace). */
    public TraceScenario replay() {
        return replay;
    }
}
