package org.shadowbox.pagetrack;

import org.shadowbox.vm.VmException;

/**
 * {@code enum kvm_page_track_mode}. Only WRITE exists, as in KVM. Modes added later get
 * new constants after the existing ones; the ordinal indexes a slot's counters.
 */
public enum TrackMode {
    /** KVM_PAGE_TRACK_WRITE: writes to the page are emulated and reported. */
    WRITE;

    /** Parses {@code write} (any case), or fails naming the accepted modes. */
    public static TrackMode parse(String s) {
        for (TrackMode m : values()) {
            if (m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new VmException("unknown track mode '" + s + "': accepted write");
    }
}
