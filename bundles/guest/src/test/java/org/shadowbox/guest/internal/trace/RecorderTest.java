package org.shadowbox.guest.internal.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/record.sh on a small real program (tools/test/three-children.sh: a shell forks three
 * children; one maps 100 anonymous pages and writes each): the trace has the process tree and the
 * events the program made. Needs strace and python3, which .ci/run installs when they are missing.
 */
class RecorderTest {
    @TempDir
    Path tmp;

    static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("tools/record.sh"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("tools/record.sh not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void recordsTheProcessTreeAndTheMappings() throws Exception {
        Assumptions.assumeTrue(onPath("strace") && onPath("python3"),
                "strace and python3 are needed (.ci/run installs them); not on this PATH");
        Path root = root();
        Path out = tmp.resolve("three.jsonl.gz");
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("tools/record.sh").toString(), "-o", out.toString(),
                "--", root.resolve("tools/test/three-children.sh").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(tmp.toFile());
        Process proc = pb.start();
        String log;
        try (InputStream in = proc.getInputStream()) {
            log = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(proc.waitFor(180, TimeUnit.SECONDS), "record.sh did not finish");
        assertEquals(0, proc.exitValue(), "record.sh failed: " + log);

        Trace t;
        try (InputStream in = Files.newInputStream(out)) {
            t = TraceReader.read(in, out.toString());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        // The shell, whose forks may be more than three if the shell forks for itself (subshells
        // exec or run their command): at least its three children, each reaped by it.
        TraceProcess sh = t.processes().get(0);
        assertEquals(t.processes().size() - 1, t.count(TraceProcess.FORK) + t.count(TraceProcess.VFORK), "a fork per child");
        assertTrue(t.processes().size() >= 4, "the shell and its three children: " + t.processes().size());
        int shForks = 0;
        int shWaits = 0;
        for (int i = 0; i < sh.n; i++) {
            shForks += sh.type[i] == TraceProcess.FORK ? 1 : 0;
            shWaits += sh.type[i] == TraceProcess.WAIT ? 1 : 0;
        }
        assertEquals(3, shForks, "the shell forked three children");
        assertEquals(3, shWaits, "and reaped them");
        boolean hundred = false;
        boolean python = false;
        for (TraceProcess p : t.processes()) {
            assertTrue(p.exited(), "pid " + p.pid + " exited");
            for (int i = 0; i < p.n; i++) {
                if (p.type[i] == TraceProcess.EXEC && t.images().get(p.arg[i]).name().startsWith("python")) {
                    python = true;
                }
                if (p.type[i] == TraceProcess.MMAP && p.pages[i] == 100
                        && p.arg[i] == (TraceProcess.PROT_READ | TraceProcess.PROT_WRITE | TraceProcess.ANON)) {
                    hundred = p.parent == 0;
                }
            }
        }
        assertTrue(python, "one child exec'd python3");
        assertTrue(hundred, "a child of the shell mapped 100 private anonymous read-write pages");
        assertTrue(t.measured("minflt") >= 100, "the kernel counted at least the 100 first touches: " + t.measured("minflt"));
        assertTrue(t.measuredCpuUs() > 0, "CPU time measured");
        Object prov = t.header().get("provenance");
        assertTrue(prov.toString().contains("three-children.sh") && prov.toString().contains("strace"), "provenance: " + prov);
    }
}
