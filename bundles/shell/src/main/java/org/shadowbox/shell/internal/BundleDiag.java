package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.namespace.BundleNamespace;
import org.osgi.framework.namespace.ExecutionEnvironmentNamespace;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.resource.Namespace;

/**
 * Why a bundle does not resolve, Karaf {@code diag} style, from the wiring API: every mandatory
 * requirement of its revision that no capability in the framework satisfies
 * ({@link FrameworkWiring#findProviders}), one readable line each, with the versions of the
 * same package that are there. Nothing is resolved or started to find out.
 */
final class BundleDiag {
    /** The export attribute that marks a platform SPI package ({@code Platform.SPI_ATTRIBUTE}). */
    static final String SPI_ATTRIBUTE = "shadowbox.platform";
    private static final Pattern FILTER_NAME = Pattern.compile("\\(([\\w.]+)=([^)(*]+)\\)");
    private static final Pattern LOW = Pattern.compile("\\(version>=([^)]+)\\)");
    private static final Pattern HIGH_OPEN = Pattern.compile("\\(!\\(version>=([^)]+)\\)\\)");
    private static final Pattern HIGH_CLOSED = Pattern.compile("\\(version<=([^)]+)\\)");

    private BundleDiag() {
    }

    static String state(Bundle b) {
        return switch (b.getState()) {
            case Bundle.INSTALLED -> "installed";
            case Bundle.RESOLVED -> "resolved";
            case Bundle.STARTING -> "starting";
            case Bundle.ACTIVE -> "active";
            case Bundle.STOPPING -> "stopping";
            default -> "uninstalled";
        };
    }

    /** The unsatisfied mandatory requirements of an unresolved bundle, one line each. */
    static List<String> unresolved(BundleContext context, Bundle b) {
        List<String> out = new ArrayList<>();
        BundleRevision rev = b.adapt(BundleRevision.class);
        if (rev == null) {
            out.add("the bundle has no revision (it is being uninstalled)");
            return out;
        }
        FrameworkWiring fw = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(FrameworkWiring.class);
        for (BundleRequirement req : rev.getDeclaredRequirements(null)) {
            Map<String, String> dirs = req.getDirectives();
            if (Namespace.RESOLUTION_OPTIONAL.equals(dirs.get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE))
                    || PackageNamespace.RESOLUTION_DYNAMIC.equals(dirs.get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE))) {
                continue;
            }
            String effective = dirs.getOrDefault(Namespace.REQUIREMENT_EFFECTIVE_DIRECTIVE, Namespace.EFFECTIVE_RESOLVE);
            if (!Namespace.EFFECTIVE_RESOLVE.equals(effective)) {
                continue;
            }
            String spi = platformSpi(context, req);
            if (spi != null) {
                out.add(spi);
                continue;
            }
            Collection<BundleCapability> providers = fw.findProviders(req);
            if (providers.isEmpty()) {
                out.add(describe(context, req));
            }
        }
        if (out.isEmpty()) {
            out.add("every requirement has a provider, yet it is not resolved: a provider may itself be unresolved,"
                    + " or uses constraints conflict; run plugin:diag on its providers, or refresh");
        }
        return out;
    }

    /**
     * The line for an import of a platform SPI package (an export marked
     * {@value #SPI_ATTRIBUTE}), which the platform's resolver hook refuses to bundles outside
     * the platform; null for any other requirement.
     */
    static String platformSpi(BundleContext context, BundleRequirement req) {
        if (!PackageNamespace.PACKAGE_NAMESPACE.equals(req.getNamespace())) {
            return null;
        }
        String name = attribute(req.getDirectives().getOrDefault(Namespace.REQUIREMENT_FILTER_DIRECTIVE, ""),
                PackageNamespace.PACKAGE_NAMESPACE);
        for (Bundle other : context.getBundles()) {
            BundleRevision r = other.adapt(BundleRevision.class);
            if (r == null) {
                continue;
            }
            for (BundleCapability cap : r.getDeclaredCapabilities(PackageNamespace.PACKAGE_NAMESPACE)) {
                if (name.equals(cap.getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE))
                        && "true".equals(String.valueOf(cap.getAttributes().get(SPI_ATTRIBUTE)))) {
                    return "imports " + name + ", a platform SPI package: refused to bundles outside the platform;"
                            + " trackers use org.shadowbox.vm, org.shadowbox.pagetrack and org.shadowbox.mmu"
                            + " (docs/trust-model.md)";
                }
            }
        }
        return null;
    }

    /** One line for an unsatisfied requirement. */
    static String describe(BundleContext context, BundleRequirement req) {
        String filter = req.getDirectives().getOrDefault(Namespace.REQUIREMENT_FILTER_DIRECTIVE, "");
        String ns = req.getNamespace();
        String name = attribute(filter, ns);
        String range = range(filter);
        switch (ns) {
            case PackageNamespace.PACKAGE_NAMESPACE:
                return "missing package " + name + " " + range + " (Import-Package): " + available(context, name);
            case BundleNamespace.BUNDLE_NAMESPACE:
                return "missing bundle " + name + " " + range + " (Require-Bundle)";
            case ExecutionEnvironmentNamespace.EXECUTION_ENVIRONMENT_NAMESPACE:
                return "missing execution environment " + filter + " (Require-Capability osgi.ee)";
            default:
                return "missing capability " + ns + " " + filter + " (Require-Capability)";
        }
    }

    /** "installed: 1.0.0 from org.shadowbox.api" or "no bundle exports it". */
    private static String available(BundleContext context, String pkg) {
        List<String> found = new ArrayList<>();
        for (Bundle other : context.getBundles()) {
            BundleRevision r = other.adapt(BundleRevision.class);
            if (r == null) {
                continue;
            }
            for (BundleCapability cap : r.getDeclaredCapabilities(PackageNamespace.PACKAGE_NAMESPACE)) {
                if (pkg.equals(cap.getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE))) {
                    found.add(cap.getAttributes().get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE) + " from "
                            + other.getSymbolicName() + " [" + other.getBundleId() + "]");
                }
            }
        }
        return found.isEmpty() ? "no bundle exports it" : "exported are " + String.join(", ", found);
    }

    private static String attribute(String filter, String ns) {
        Matcher m = FILTER_NAME.matcher(filter);
        while (m.find()) {
            if (m.group(1).equals(ns)) {
                return m.group(2);
            }
        }
        return filter;
    }

    /** The version range a resolver filter states, as {@code [1.0.0,2.0.0)}; "any version" if none. */
    static String range(String filter) {
        Matcher lo = LOW.matcher(filter);
        Matcher hiOpen = HIGH_OPEN.matcher(filter);
        Matcher hiClosed = HIGH_CLOSED.matcher(filter);
        String low = lo.find() ? lo.group(1) : null;
        if (hiOpen.find()) {
            return "[" + (low == null ? "0.0.0" : low) + "," + hiOpen.group(1) + ")";
        }
        if (hiClosed.find()) {
            return "[" + (low == null ? "0.0.0" : low) + "," + hiClosed.group(1) + "]";
        }
        return low == null ? "(any version)" : low + " or later";
    }
}
