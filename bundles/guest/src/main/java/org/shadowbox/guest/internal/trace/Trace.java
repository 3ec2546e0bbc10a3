package org.shadowbox.guest.internal.trace;

import java.util.List;
import java.util.Map;

/**
 * A recorded workload read from a trace file (docs/trace-format.md): the header as written, the
 * processes with their events, and the executables they ran.
 *
 * @param source     where it was read from (for messages)
 * @param header     the first line, as parsed
 * @param processes  every process, the root first; a process's index is its place here
 * @param images     each distinct executable: name, and size in pages (-1 when the recorder could not stat it)
 * @param events     event lines read (the end line excluded)
 */
record Trace(String source, Map<String, Object> header, List<TraceProcess> processes, List<Image> images, long events) {

    /** An executable as recorded: its base name and file size in pages (-1: unknown). */
    record Image(String name, int pages) {
    }

    /** Measured CPU µs (user + sys) of the whole recorded tree. */
    long measuredCpuUs() {
        return Math.round((measured("user_s") + measured("sys_s")) * 1e6);
    }

    /** A figure of the header's {@code measured} object, 0 when absent. */
    double measured(String key) {
        Object m = header.get("measured");
        if (m instanceof Map<?, ?> mm && mm.get(key) instanceof Number n) {
            return n.doubleValue();
        }
        return 0;
    }

    /** Events of {@code type} in the whole trace. */
    long count(byte type) {
        long c = 0;
        for (TraceProcess p : processes) {
            for (int i = 0; i < p.n; i++) {
                if (p.type[i] == type) {
                    c++;
                }
            }
        }
        return c;
    }
}
