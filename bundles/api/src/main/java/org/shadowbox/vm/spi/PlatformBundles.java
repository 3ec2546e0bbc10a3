package org.shadowbox.vm.spi;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Which bundles are the platform's own: the system bundle and the bundles the launcher
 * installed, each known by its id and location together (never by symbolic name). A service
 * of the vm bundle; page track grants the MMU role only to such a bundle.
 */
@ProviderType
public interface PlatformBundles {

    /** Whether the bundle with this id and location is one of the platform's own. */
    boolean isPlatform(long bundleId, String location);

    /**
     * Why the bundle with this id is refused, one line, or {@code null} if it is not: a bundle
     * outside the platform whose symbolic name is reserved ({@code org.shadowbox.*}) and whose
     * jar is not one the platform ships. Such a bundle never resolves. An implementation that
     * reserves no names refuses nothing.
     *
     * @since 1.1
     */
    default String refusal(long bundleId) {
        return null;
    }
}
