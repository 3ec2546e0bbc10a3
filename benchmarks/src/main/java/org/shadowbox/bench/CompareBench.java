package org.shadowbox.bench;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.shadowbox.run.internal.CostConfig;
import org.shadowbox.run.internal.RunCommands;

/**
 * {@code run:compare kernel-build} with every option at its default, end to end, through the
 * command's own code as {@code ./shadowbox -c 'run:compare kernel-build'} runs it in batch mode
 * (no progress bar): the calibration comparison at a quarter of the scale and its prediction,
 * then the two fresh VMs of the default size (legacy, then pagetrack) each booting the guest,
 * running the scenario at the compare's scale after its warm-up and verifying the guest's
 * memory, the check that the guest saw the same under both, the report and its JSON, CSV and SVG
 * files (into a temporary workspace). One operation is one whole comparison. The JVM's and the
 * framework's start are not in it (see {@code bench/startup.sh}). One operation is 6 to 9 s,
 * so with iterations of 1 s each iteration is exactly one operation (an iteration of 8 s held one
 * or two, so its length was not known in advance); its score depends more on the fork than on
 * the iteration (6.4 to 9.0 s by fork on one build), so 4 forks of 2 warm-up and 3 measured
 * comparisons rather than one fork of more.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 4, jvmArgsAppend = {"-Xmx3g"})
public class CompareBench {
    private RunCommands commands;
    private Path workspace;

    @Setup
    public void setup() throws IOException {
        workspace = Files.createTempDirectory("shadowbox-compare-bench");
        System.setProperty("shadowbox.workspace", workspace.toString());
        System.setProperty("shadowbox.batch.command", "run:compare kernel-build"); // batch mode: no progress bar
        MmuSandbox s = new MmuSandbox(0);
        commands = new RunCommands(s.hypervisor, s.mmu, s.mmu, s.runner, s.pageTrack.forOwner("org.shadowbox.run"), null,
                defaults(), Map.of());
    }

    /** The cost model's Configuration Admin defaults, as SCR gives them with no configuration. */
    private static CostConfig defaults() {
        return (CostConfig) Proxy.newProxyInstance(CostConfig.class.getClassLoader(), new Class<?>[] {CostConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "annotationType" -> CostConfig.class;
                    case "hashCode" -> 0;
                    case "equals" -> proxy == args[0];
                    case "toString" -> "CostConfig defaults";
                    default -> {
                        Object d = method.getDefaultValue();
                        if (d == null) {
                            throw new IllegalStateException("CostConfig." + method.getName() + " has no default");
                        }
                        yield d;
                    }
                });
    }

    @TearDown
    public void tearDown() throws IOException {
        try (Stream<Path> files = Files.walk(workspace)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** One {@code run:compare kernel-build}; its report's length (so nothing is dead code). */
    @Benchmark
    public int compareKernelBuild() {
        String out = commands.compare("", "", "shadow", "1", "", "", "", "false", "false", "false", "kernel-build");
        if (!out.startsWith("kernel-build: ")) {
            throw new IllegalStateException("run:compare kernel-build said: " + out);
        }
        return out.length();
    }
}
