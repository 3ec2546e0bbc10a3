package org.shadowbox.writeflood.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import org.shadowbox.vm.VmException;

/**
 * The policy and flood threshold, for every VM and per VM by name. Immutable: a change makes a
 * new instance, which {@link VmFlood} picks up at the next write.
 *
 * @param policy    the policy of VMs with no entry of their own
 * @param threshold the flood threshold of VMs with no entry of their own
 * @param perVm     per VM name, its own choice (a VM need not exist yet)
 */
record Settings(FloodPolicy policy, int threshold, Map<String, Choice> perVm) {

    /** Thresholds accepted: KVM's is 3; 1 zaps on every write. */
    static final int MAX_THRESHOLD = 65535;

    /** KVM's defaults. */
    static final Settings DEFAULT = new Settings(FloodPolicy.KVM, PteWriteRules.DEFAULT_THRESHOLD, Map.of());

    /** One VM's choice. */
    record Choice(FloodPolicy policy, int threshold) {
    }

    Settings {
        checkThreshold(threshold);
        perVm = java.util.Collections.unmodifiableMap(new TreeMap<>(perVm));
    }

    static int checkThreshold(int n) {
        if (n < 1 || n > MAX_THRESHOLD) {
            throw new VmException("bad flood threshold " + n + ": accepted 1 to " + MAX_THRESHOLD
                    + " (KVM's is " + PteWriteRules.DEFAULT_THRESHOLD + ")");
        }
        return n;
    }

    /** The choice for VM {@code name}. */
    Choice forVm(String name) {
        Choice c = perVm.get(name);
        return c != null ? c : new Choice(policy, threshold);
    }

    /** These settings with VM {@code name}'s choice replaced. */
    Settings withVm(String name, Choice c) {
        Map<String, Choice> next = new LinkedHashMap<>(perVm);
        next.put(name, c);
        return new Settings(policy, threshold, next);
    }

    /**
     * Settings from the configuration's values. {@code vmPolicies} entries are
     * {@code NAME=POLICY} or {@code NAME=POLICY:THRESHOLD}, several per element when separated
     * by commas (a .cfg file gives one String).
     */
    static Settings parse(String policy, int threshold, String[] vmPolicies) {
        FloodPolicy p = FloodPolicy.parse(policy);
        Map<String, Choice> perVm = new LinkedHashMap<>();
        for (String element : vmPolicies == null ? new String[0] : vmPolicies) {
            for (String entry : element.split(",")) {
                String e = entry.trim();
                if (e.isEmpty()) {
                    continue;
                }
                int eq = e.indexOf('=');
                if (eq <= 0) {
                    throw new VmException("bad vm.policy entry '" + e + "': accepted NAME=POLICY or NAME=POLICY:THRESHOLD"
                            + " (e.g. demo=xen, test=kvm:5)");
                }
                String rest = e.substring(eq + 1).trim();
                int colon = rest.indexOf(':');
                FloodPolicy vp = FloodPolicy.parse(colon < 0 ? rest : rest.substring(0, colon));
                int vt = colon < 0 ? threshold : parseThreshold(rest.substring(colon + 1));
                perVm.put(e.substring(0, eq).trim(), new Choice(vp, vt));
            }
        }
        return new Settings(p, threshold, perVm);
    }

    /** A threshold typed by a user: decimal, 1 to {@value #MAX_THRESHOLD}. */
    static int parseThreshold(String s) {
        try {
            return checkThreshold(Integer.parseInt(s.trim()));
        } catch (NumberFormatException e) {
            throw new VmException("bad flood threshold '" + s + "': accepted a number from 1 to " + MAX_THRESHOLD);
        }
    }
}
