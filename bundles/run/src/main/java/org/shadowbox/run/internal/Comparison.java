package org.shadowbox.run.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The seed's table: the same scenario, scale and seed under {@code policy=legacy} (before) and
 * {@code policy=pagetrack} (after).
 */
public record Comparison(RunReport before, RunReport after) {

    /** Change from before to after in percent ({@code NaN} when before is 0 and after is not). */
    public static double change(double before, double after) {
        if (before == 0) {
            return after == 0 ? 0 : Double.NaN;
        }
        return (after - before) * 100 / before;
    }

    /** True when the guest saw the same: equal guest counts and equal memory checksums. */
    public boolean identical() {
        return differences().isEmpty();
    }

    /**
     * True when the two runs' guest-visible results must be equal: on one host thread. On
     * several the interleaving is the host's and the counts differ run to run (each run's guest
     * memory is still verified by the runner).
     */
    public boolean comparable() {
        return before.threads() == 1 && after.threads() == 1;
    }

    /** What the guest saw differently under the two policies, one line each (empty when identical). */
    public List<String> differences() {
        List<String> out = new ArrayList<>();
        if (before.checksum() != after.checksum()) {
            out.add("memory checksum 0x" + Long.toHexString(before.checksum()) + " (legacy) vs 0x"
                    + Long.toHexString(after.checksum()) + " (pagetrack)");
        }
        Map<String, Long> a = before.counts().asMap();
        Map<String, Long> b = after.counts().asMap();
        for (Map.Entry<String, Long> e : a.entrySet()) {
            if (!e.getValue().equals(b.get(e.getKey()))) {
                out.add(e.getKey() + " " + e.getValue() + " (legacy) vs " + b.get(e.getKey()) + " (pagetrack)");
            }
        }
        return out;
    }
}
