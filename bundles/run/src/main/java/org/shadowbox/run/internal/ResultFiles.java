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
    /** Results kept in workspace/results by default. */
    static final int KEEP = 500;
    /** The property that changes {@link #KEEP}. */
    static final String KEEP_PROPERTY = "shadowbox.results.keep";
    private static final java.util.regex.Pattern OURS =
            java.util.regex.Pattern.compile("((?:run|compare)-.+)\\.(?:json|csv|svg)");

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

    /**
     * The retention of {@code workspace/results}: {@code value} of {@value #KEEP_PROPERTY}, or
     * {@link #KEEP} if it is absent; a bad value is one line.
     */
    static int keep(String value) {
        if (value == null || value.isBlank()) {
            return KEEP;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the one line below
        }
        throw new VmException("bad " + KEEP_PROPERTY + " '" + value.trim() + "': accepted 0 (keep all) or the number"
                + " of results to keep in workspace/results");
    }

    /**
     * Deletes the oldest results Shadowbox wrote in {@code dir} (by modification time, then
     * name) beyond the newest {@code keep}; 0 keeps all.
     *
     * @return the results deleted (their names without extension), oldest first
     */
    static List<String> prune(Path dir, int keep) {
        if (keep == 0 || !Files.isDirectory(dir)) {
            return List.of();
        }
        java.util.Map<String, Long> newest = new java.util.HashMap<>();
        java.util.Map<String, List<Path>> files = new java.util.HashMap<>();
        try (java.util.stream.Stream<Path> list = Files.list(dir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                java.util.regex.Matcher m = OURS.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isRegularFile(p)) {
                    continue;
                }
                long t = Files.getLastModifiedTime(p).toMillis();
                newest.merge(m.group(1), t, Math::max);
                files.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(p);
            }
        } catch (IOException e) {
            throw new VmException("cannot list the results in " + dir + ": " + e);
        }
        if (newest.size() <= keep) {
            return List.of();
        }
        List<String> names = new ArrayList<>(newest.keySet());
        names.sort(java.util.Comparator.comparing((String n) -> newest.get(n)).thenComparing(n -> n));
        List<String> removed = new ArrayList<>(names.subList(0, names.size() - keep));
        for (String n : removed) {
            for (Path p : files.get(n)) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new VmException("cannot delete the old result " + p + ": " + e);
                }
            }
        }
        return removed;
    }
}
