package org.shadowbox.shell.internal;

import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.ReferenceDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * What Declarative Services says of a bundle's components (the part of Karaf's diag that SCR
 * answers): a component waiting for a service, one that failed to activate, one disabled.
 */
final class ComponentDiag {
    private ComponentDiag() {
    }

    static List<String> of(BundleContext context, Bundle b) {
        List<String> out = new ArrayList<>();
        ServiceReference<ServiceComponentRuntime> ref;
        try {
            ref = context.getServiceReference(ServiceComponentRuntime.class);
        } catch (NoClassDefFoundError e) {
            return out; // the DS runtime API is not wired to the shell
        }
        if (ref == null) {
            return out;
        }
        ServiceComponentRuntime scr = context.getService(ref);
        if (scr == null) {
            return out;
        }
        try {
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
                if (!scr.isComponentEnabled(d)) {
                    out.add("component " + d.name + ": disabled");
                    continue;
                }
                for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                    switch (c.state) {
                        case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> {
                            for (UnsatisfiedReferenceDTO u : c.unsatisfiedReferences) {
                                out.add("component " + d.name + ": waits for a service " + interfaceOf(d, u.name)
                                        + (u.target == null ? "" : " " + u.target) + " (reference " + u.name + ")");
                            }
                        }
                        case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION ->
                                out.add("component " + d.name + ": waits for its configuration " + String.join(", ",
                                        d.configurationPid));
                        case ComponentConfigurationDTO.FAILED_ACTIVATION ->
                                out.add("component " + d.name + ": activation failed: " + firstLine(c.failure));
                        default -> {
                            // satisfied or active
                        }
                    }
                }
            }
        } finally {
            context.ungetService(ref);
        }
        return out;
    }

    private static String interfaceOf(ComponentDescriptionDTO d, String reference) {
        for (ReferenceDTO r : d.references) {
            if (r.name.equals(reference)) {
                return r.interfaceName;
            }
        }
        return reference;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "(no reason given)";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}
