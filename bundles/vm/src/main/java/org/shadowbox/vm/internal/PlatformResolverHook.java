package org.shadowbox.vm.internal;

import java.lang.System.Logger.Level;
import java.util.Collection;
import java.util.Iterator;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.hooks.resolver.ResolverHook;
import org.osgi.framework.hooks.resolver.ResolverHookFactory;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.shadowbox.vm.spi.Platform;
import org.shadowbox.vm.spi.PlatformBundles;

/**
 * Keeps the platform's SPI packages to the platform: a resolver hook
 * ({@code org.osgi.framework.hooks.resolver}) that hides every package export marked
 * {@value Platform#SPI_ATTRIBUTE} from a bundle outside the platform, so that a tracker that
 * imports one does not resolve ({@code plugin:diag} says why). The platform is the system
 * bundle and the bundles the launcher installed, that is, every bundle present when this
 * component starts (the vm bundle starts at level 1, before FileInstall or any shell command
 * can install anything), each known by its id and location together: a bundle installed
 * later is foreign whatever its symbolic name. It also keeps symbolic names under
 * {@code org.shadowbox.} to the platform's own jars ({@link ReservedNames}): a foreign bundle
 * under such a name does not resolve at all. The framework storage is fresh at every
 * launch, so no earlier run's bundle is counted. See docs/trust-model.md for what this does
 * and does not stop.
 */
@Component(service = {ResolverHookFactory.class, PlatformBundles.class}, immediate = true)
public final class PlatformResolverHook implements ResolverHookFactory, PlatformBundles {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.vm");

    /**
     * Bundle id to location, of the platform's bundles: taken once per framework (class
     * loader), at the first activation, so that restarting the vm bundle later does not
     * adopt bundles installed meanwhile.
     */
    private static final Map<Long, String> PLATFORM = new ConcurrentHashMap<>();

    private final BundleContext context;
    private final ReservedNames reservedNames;
    /** Bundles already warned about, so that each refusal is logged once. */
    private final Set<Long> warned = ConcurrentHashMap.newKeySet();

    @Activate
    public PlatformResolverHook(BundleContext context) {
        this.context = context;
        synchronized (PLATFORM) {
            if (PLATFORM.isEmpty()) {
                for (Bundle b : context.getBundles()) {
                    PLATFORM.put(b.getBundleId(), b.getLocation());
                }
            }
        }
        String dir = context.getProperty("shadowbox.plugins.dir");
        String workspace = context.getProperty("shadowbox.workspace");
        Path plugins = dir != null ? Path.of(dir) : workspace != null ? Path.of(workspace, "plugins") : null;
        this.reservedNames = new ReservedNames(plugins);
    }

    @Override
    public String refusal(long bundleId) {
        Bundle b = context.getBundle(bundleId);
        if (b == null || isPlatform(b) || !ReservedNames.reserved(b.getSymbolicName()) || reservedNames.shipped(b)) {
            return null;
        }
        return reservedNames.refusal(b.getSymbolicName());
    }

    /** Whether {@code b} is one of the platform's own bundles (by id and location, never by name). */
    public boolean isPlatform(Bundle b) {
        return b != null && isPlatform(b.getBundleId(), b.getLocation());
    }

    @Override
    public boolean isPlatform(long bundleId, String location) {
        return location != null && location.equals(PLATFORM.get(bundleId));
    }

    /** Whether {@code cap} is a package export of the platform SPI. */
    public static boolean isSpi(BundleCapability cap) {
        return PackageNamespace.PACKAGE_NAMESPACE.equals(cap.getNamespace())
                && "true".equals(String.valueOf(cap.getAttributes().get(Platform.SPI_ATTRIBUTE)));
    }

    @Override
    public ResolverHook begin(Collection<BundleRevision> triggers) {
        return new ResolverHook() {
            @Override
            public void filterResolvable(Collection<BundleRevision> candidates) {
                // a foreign bundle under a reserved name never resolves, so it never runs code
                for (Iterator<BundleRevision> it = candidates.iterator(); it.hasNext();) {
                    Bundle b = it.next().getBundle();
                    String why = refusal(b.getBundleId());
                    if (why != null) {
                        it.remove();
                        if (warned.add(b.getBundleId())) {
                            LOG.log(Level.WARNING, "bundle [" + b.getBundleId() + "] " + b.getLocation() + ": " + why);
                        }
                    }
                }
            }

            @Override
            public void filterSingletonCollisions(BundleCapability singleton,
                    Collection<BundleCapability> collisionCandidates) {
                // no singleton rule here
            }

            @Override
            public void filterMatches(BundleRequirement requirement, Collection<BundleCapability> candidates) {
                Bundle requirer = requirement.getRevision().getBundle();
                if (isPlatform(requirer)) {
                    return;
                }
                for (Iterator<BundleCapability> it = candidates.iterator(); it.hasNext();) {
                    BundleCapability cap = it.next();
                    if (isSpi(cap)) {
                        it.remove();
                        LOG.log(Level.WARNING, "bundle " + requirer.getSymbolicName() + " [" + requirer.getBundleId()
                                + "] may not wire to platform SPI package "
                                + cap.getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE)
                                + ": it is not one of the platform's bundles");
                    }
                }
            }

            @Override
            public void end() {
                // nothing held
            }
        };
    }
}
