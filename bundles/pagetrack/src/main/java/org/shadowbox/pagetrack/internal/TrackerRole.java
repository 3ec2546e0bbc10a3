package org.shadowbox.pagetrack.internal;

/**
 * Who a tracker is, as KVM tells its own MMU apart from external users such as KVMGT
 * ({@code kvm_page_track_has_external_user}). A bundle declares itself the MMU with the
 * manifest header {@value #HEADER}{@code : mmu}; every other owner is external.
 */
public enum TrackerRole {
    /** The MMU (shadow paging): its tracks die with a moved slot and it re-shadows. */
    MMU,
    /** Everyone else: a slot where it holds tracked pages cannot be moved. */
    EXTERNAL;

    /** The manifest header that declares a bundle's role. */
    public static final String HEADER = "Shadowbox-Tracker-Role";

    /** The role a {@value #HEADER} header value declares ({@code null} or anything but "mmu": external). */
    public static TrackerRole ofHeader(String value) {
        return value != null && value.trim().equalsIgnoreCase("mmu") ? MMU : EXTERNAL;
    }
}
