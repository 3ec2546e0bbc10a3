package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shadowbox.vm.VmException;

/**
 * Issue 13: what the run bundle keeps is bounded. run:jobs keeps the newest finished runs and
 * says in one line that an older one was dropped; workspace/results keeps the newest results
 * Shadowbox wrote and never touches other files.
 */
class RetentionTest {
    @TempDir
    Path dir;

    @Test
    void runJobsKeepsTheNewestFinishedRuns() throws Exception {
        RunJobs jobs = new RunJobs(3);
        for (int i = 0; i < 6; i++) {
            jobs.start("vm", "steady", j -> {
                throw new VmException("ended " + j.id);
            });
        }
        // Pruned as each run starts: the newest started one plus the 3 newest finished before it.
        assertEquals(List.of(3, 4, 5, 6), jobs.list().stream().map(j -> j.id).toList());
        assertEquals(2, jobs.dropped());
        assertEquals("run 1 is no longer kept: run:jobs keeps the newest 3 finished background runs; its report was"
                + " saved in workspace/results when it ended", assertThrows(VmException.class, () -> jobs.require(1)).getMessage());
        assertEquals("no background run 9: accepted 3, 4, 5, 6",
                assertThrows(VmException.class, () -> jobs.require(9)).getMessage());
        assertEquals("ended 6", jobs.require(6).error);
    }

    @Test
    void resultsKeepTheNewestAndNothingElseIsTouched() throws IOException {
        for (int i = 0; i < 5; i++) {
            write("run-demo-steady-seed1-2026120" + i + "-000000.json", i);
            for (String ext : List.of(".json", ".csv", ".svg")) {
                write("compare-steady-seed1-2026120" + i + "-000000" + ext, i);
            }
        }
        write("notes.txt", 0);
        write("run-by-hand.txt", 0);
        List<String> removed = ResultFiles.prune(dir, 4);
        assertEquals(6, removed.size(), removed.toString());
        assertTrue(removed.get(0).endsWith("20261200-000000") && removed.get(5).endsWith("20261202-000000"), removed.toString());
        try (Stream<Path> left = Files.list(dir)) {
            List<String> names = left.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("compare-steady-seed1-20261203-000000.csv", "compare-steady-seed1-20261203-000000.json",
                    "compare-steady-seed1-20261203-000000.svg", "compare-steady-seed1-20261204-000000.csv",
                    "compare-steady-seed1-20261204-000000.json", "compare-steady-seed1-20261204-000000.svg", "notes.txt",
                    "run-by-hand.txt", "run-demo-steady-seed1-20261203-000000.json",
                    "run-demo-steady-seed1-20261204-000000.json"), names);
        }
        assertEquals(List.of(), ResultFiles.prune(dir, 0), "0 keeps all");
        assertEquals(List.of(), ResultFiles.prune(dir, 4), "within the bound: nothing removed");
    }

    @Test
    void theRetentionPropertyIsCheckedInOneLine() {
        assertEquals(ResultFiles.KEEP, ResultFiles.keep(null));
        assertEquals(0, ResultFiles.keep(" 0 "));
        assertEquals("bad shadowbox.results.keep '-1': accepted 0 (keep all) or the number of results to keep in"
                + " workspace/results", assertThrows(VmException.class, () -> ResultFiles.keep("-1")).getMessage());
    }

    private void write(String name, int age) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, name);
        Files.setLastModifiedTime(p, FileTime.fromMillis(1_000_000_000_000L + age * 60_000L));
    }
}
