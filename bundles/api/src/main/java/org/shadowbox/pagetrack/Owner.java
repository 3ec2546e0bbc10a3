package org.shadowbox.pagetrack;

/**
 * Who holds tracks: one bundle, known by its framework id and location together. Two bundles
 * with the same symbolic name (two versions, or two copies from different places) are two
 * owners: their tracks never merge, and neither can remove the other's.
 *
 * @param bundleId     the OSGi bundle id, or -1 for an owner made outside OSGi (unit tests)
 * @param location     the bundle's install location, or "" outside OSGi
 * @param symbolicName the bundle's symbolic name (what a person reads; not an identity)
 * @since pagetrack 2.1
 */
public record Owner(long bundleId, String location, String symbolicName) {
    public Owner {
        location = location == null ? "" : location;
        if (symbolicName == null || symbolicName.isBlank()) {
            throw new IllegalArgumentException("an owner needs a symbolic name");
        }
    }

    /** "org.example.tracker [14]", or the bare name outside OSGi. */
    public String label() {
        return bundleId < 0 ? symbolicName : symbolicName + " [" + bundleId + "]";
    }
}
