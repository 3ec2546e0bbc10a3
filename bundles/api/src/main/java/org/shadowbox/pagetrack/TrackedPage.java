package org.shadowbox.pagetrack;

import java.util.Map;

/**
 * One tracked gfn.
 *
 * @param gfn    the page
 * @param mode   the tracking mode
 * @param count  the slot's counter
 * @param owners tracks held per owner (bundle symbolic name); sums to {@code count}
 */
public record TrackedPage(long gfn, TrackMode mode, int count, Map<String, Integer> owners) {
    public TrackedPage {
        owners = Map.copyOf(owners);
    }
}
