package org.shadowbox.run.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * Where a comparison is written: {@code <workspace>/results/compare-SCENARIO-seedS-yyyyMMdd-HHmmss}
 * (under TDP {@code compare-SCENARIO-tdp-seedS-...}, so the two experiments never share a name)
 * with {@code .json}, {@code .csv} and {@code .svg}; a name already taken gets {@code -2},
 * {@code -3}, ... The workspace is the {@code shadowbox.workspace} framework property that
 * {@code ./shadowbox} sets, else {@code workspace/} under the working directory.
 */
final class ResultFiles {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private ResultFiles() {
    }

    static Path resultsDir(String workspaceProperty) {
        Path ws = workspaceProperty != null ? Path.of(workspaceProperty) : Path.of("workspace");
        return ws.resolve("results").toAbsolutePath().normalize();
    }

    /** The three paths for a comparison, not yet written (none of them exists). */
    static List<Path> paths(Path dir, String scenario, String mmu, long seed, LocalDateTime when) {
        String base = "compare-" + safe(scenario) + (VmSpec.MMU_TDP.equals(mmu) ? "-tdp" : "") + "-seed"
                + Long.toUnsignedString(seed) + "-" + STAMP.format(when);
        String name = base;
        for (int i = 2; exists(dir, name); i++) {
            name = base + "-" + i;
        }
        List<Path> out = new ArrayList<>();
        for (String ext : List.of(".json", ".csv", ".svg")) {
            out.add(dir.resolve(name + ext));
        }
        return out;
    }

    /**
     * The path for one {@code run:scenario} report ({@code run-VM-SCENARIO-seedN-STAMP.json}), not
     * yet written (it does not exist).
     */
    static Path reportPath(Path dir, String vm, String scenario, long seed, LocalDateTime when) {
        String base = "run-" + safe(vm) + "-" + safe(scenario) + "-seed" + Long.toUnsignedString(seed) + "-"
                + STAMP.format(when);
        String name = base;
        for (int i = 2; Files.exists(dir.resolve(name + ".json")); i++) {
            name = base + "-" + i;
        }
        return dir.resolve(name + ".json");
    }

    /**
     * A scenario or VM name as part of a file name: {@code trace:DIR/NAME.jsonl.gz} becomes
     * {@code trace-NAME}, and any character outside {@code [A-Za-z0-9._-]} becomes '_'.
     */
    static String safe(String s) {
        if (s.startsWith("trace:")) {
            Path name = Path.of(s.substring("trace:".length())).getFileName();
            String file = name == null ? "" : name.toString();
            s = "trace-" + file.replaceFirst("(\\.jsonl)?(\\.gz)?$", "");
        }
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static boolean exists(Path dir, String name) {
        for (String ext : List.of(".json", ".csv", ".svg")) {
            if (Files.exists(dir.resolve(name + ext))) {
                return true;
            }
        }
        return false;
    }

    /** Writes {@code contents[i]} to {@code paths[i]}, creating the folder; one line on failure. */
    static void write(List<Path> paths, List<String> contents) {
        try {
            Files.createDirectories(paths.get(0).getParent());
            for (int i = 0; i < paths.size(); i++) {
                Files.writeString(paths.get(i), contents.get(i), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new VmException("cannot write the results to " + paths.get(0).getParent() + ": " + e);
        }
    }
}
