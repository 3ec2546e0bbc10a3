package org.shadowbox.web.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ./shadowbox} started as a user starts it, in the background, with a workspace of its
 * own (a copy of workspace/config: the demo VM): commands are typed on its standard input, its
 * output is kept line by line. Closing stdin ends it (end of file stops the framework).
 */
final class Sandbox implements AutoCloseable {
    static final Pattern URL = Pattern.compile("Web view: (http://127\\.0\\.0\\.1:(\\d+)/)(#token=([0-9a-f]+))?");

    final Path root;
    final Path workspace;
    private final Process process;
    private final OutputStream stdin;
    private final List<String> lines = new ArrayList<>();

    Sandbox(Path root, Path workspace) throws IOException {
        this.root = root;
        this.workspace = workspace;
        Files.createDirectories(workspace.resolve("config"));
        try (Stream<Path> s = Files.list(root.resolve("workspace/config"))) {
            for (Path p : s.toList()) {
                Files.copy(p, workspace.resolve("config").resolve(p.getFileName()));
            }
        }
        Files.createDirectories(workspace.resolve("results"));
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("shadowbox").toString());
        pb.environment().put("SHADOWBOX_NO_BUILD", "1");
        pb.environment().put("SHADOWBOX_WORKSPACE", workspace.toString());
        pb.redirectErrorStream(true);
        process = pb.start();
        stdin = process.getOutputStream();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "sandbox-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Types one line on the shell's standard input. */
    void type(String line) throws IOException {
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    /** Waits for an output line from index {@code from} on that {@code pattern} finds something in. */
    Matcher await(Pattern pattern, int from, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int i = from;
            while (true) {
                for (; i < lines.size(); i++) {
                    Matcher m = pattern.matcher(lines.get(i));
                    if (m.find()) {
                        return m;
                    }
                }
                long left = end - System.nanoTime();
                if (left <= 0 || !process.isAlive() && i >= lines.size()) {
                    throw new AssertionError("no output matching /" + pattern + "/ within " + timeout.toSeconds()
                            + " s; the sandbox printed:\n" + String.join("\n", lines));
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /** Lines printed so far. */
    int mark() {
        synchronized (lines) {
            return lines.size();
        }
    }

    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            stdin.close();
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
