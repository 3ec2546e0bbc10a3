package org.shadowbox.pagetrack;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * One tracked gfn.
 *
 * @param gfn     the page
 * @param mode    the tracking mode
 * @param count   the slot's counter
 * @param owners  tracks held per bundle symbolic name, for display and for code written before
 *                {@code holders}: two bundles of one name add up here; sums to {@code count}
 * @param holders tracks held per owner (bundle id and location), one entry per bundle, sorted
 *                by symbolic name then bundle id; sums to {@code count}
 */
public record TrackedPage(long gfn, TrackMode mode, int count, Map<String, Integer> owners, List<Holder> holders) {
    public TrackedPage {
        owners = Map.copyOf(owners);
        List<Holder> sorted = new ArrayList<>(holders);
        sorted.sort(Comparator.comparing((Holder h) -> h.owner().symbolicName())
                .thenComparingLong(h -> h.owner().bundleId()));
        holders = List.copyOf(sorted);
    }

    /**
     * The record as it was before {@code holders} (pagetrack 2.0): each symbolic name stands for
     * one owner of unknown id ({@link Owner#bundleId()} -1).
     */
    public TrackedPage(long gfn, TrackMode mode, int count, Map<String, Integer> owners) {
        this(gfn, mode, count, owners, byName(owners));
    }

    /** The count {@code owner} holds, 0 if none. */
    public int countOf(Owner owner) {
        for (Holder h : holders) {
            if (h.owner().equals(owner)) {
                return h.count();
            }
        }
        return 0;
    }

    private static List<Holder> byName(Map<String, Integer> owners) {
        List<Holder> out = new ArrayList<>(owners.size());
        owners.forEach((name, n) -> out.add(new Holder(new Owner(-1, "", name), n)));
        return out;
    }

    /**
     * One owner's tracks of the gfn.
     *
     * @param owner the bundle
     * @param count how many of the slot's count are its
     */
    public record Holder(Owner owner, int count) {
    }
}
