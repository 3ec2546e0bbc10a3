package org.shadowbox.guest.internal.trace;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a replay did beside the guest's own counts: the first touches made and those that found
 * no untouched page, the CPU work retired, the munmaps and mprotects of part of an area (re-enacted
 * by splitting it), and the recorded events the model could not re-enact exactly (docs/replay.md
 * lists why).
 */
final class ReplayStats {
    long touches;
    long touchesUnplaced;
    long userAccesses;
    long sysAccesses;
    long perAccessUnsimulated;
    long partialUnmaps;
    long partialMprotects;
    long areasSplit;
    long fixedReplaced;
    long mremapsSkipped;
    long brkShrinksSkipped;
    long waitsWithoutChild;
    long mremaps;

    Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("first_touches", touches);
        m.put("first_touches_unplaced", touchesUnplaced);
        m.put("user_accesses_retired", userAccesses);
        m.put("sys_accesses_retired", sysAccesses);
        m.put("per_access_unsimulated", perAccessUnsimulated);
        m.put("partial_munmaps", partialUnmaps);
        m.put("partial_mprotects", partialMprotects);
        m.put("areas_split", areasSplit);
        m.put("map_fixed_replaced", fixedReplaced);
        m.put("mremaps_skipped", mremapsSkipped);
        m.put("brk_shrinks_skipped", brkShrinksSkipped);
        m.put("waits_without_child", waitsWithoutChild);
        m.put("mremaps_as_remap", mremaps);
        return m;
    }
}
