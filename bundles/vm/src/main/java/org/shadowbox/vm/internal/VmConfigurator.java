package org.shadowbox.vm.internal;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * One VM per factory configuration of PID {@value #PID}: this is how
 * {@code workspace/config/org.shadowbox.vm-demo.cfg} becomes the embedded {@code demo}
 * VM. Properties: {@code name}, {@code vcpus} (1), {@code maxphyaddr} (46), and either
 * {@code slots} ({@code id:baseGfn:npages[:readonly][:dirtylog]}, comma separated) or
 * {@code memory} (a size such as {@code 1G}, laid out as a PC); and the options
 * {@code mmu}, {@code policy}, {@code paging} of {@link VmSpec}. Editing the file
 * re-creates the VM; deleting it destroys the VM.
 */
@Component(configurationPid = VmConfigurator.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
public final class VmConfigurator {
    static final String PID = "org.shadowbox.vm";
    private static final System.Logger LOG = System.getLogger("org.shadowbox.vm");

    private final Hypervisor hypervisor;
    private final String name;

    /** DS's deactivation reasons (ComponentConstants.DEACTIVATION_REASON_CONFIGURATION_*). */
    static final int CONFIGURATION_MODIFIED = 3;
    static final int CONFIGURATION_DELETED = 4;
    /** VMs destroyed because their configuration changed, to be re-created by the next activation. */
    private static final Set<String> RECREATING = ConcurrentHashMap.newKeySet();

    /**
     * Creates the VM. A bad configuration is one line in the log and no VM, and the component
     * stays active: throwing here would make DS log its whole stack trace after that line.
     */
    @Activate
    public VmConfigurator(@Reference Hypervisor hypervisor, Map<String, Object> props) {
        this.hypervisor = hypervisor;
        String created = null;
        try {
            VmSpec spec = spec(props);
            hypervisor.createVm(spec);
            created = spec.name();
            if (RECREATING.remove(created)) {
                LOG.log(Level.WARNING, "VM " + created + " re-created from its changed configuration "
                        + props.get("service.pid") + " (a new VM: its memory and tracks start empty)");
            }
        } catch (VmException e) {
            LOG.log(Level.ERROR, "configuration " + props.get("service.pid") + ": " + e.getMessage() + "; no VM made");
        }
        this.name = created;
    }

    @Deactivate
    void deactivate(int reason) {
        if (name == null || hypervisor.vm(name).isEmpty()) {
            return;
        }
        hypervisor.destroyVm(name);
        if (reason == CONFIGURATION_MODIFIED) {
            RECREATING.add(name);
            LOG.log(Level.WARNING, "VM " + name + " destroyed: its configuration changed, it is re-created from it");
        } else if (reason == CONFIGURATION_DELETED) {
            LOG.log(Level.WARNING, "VM " + name + " destroyed: its configuration was deleted");
        }
    }

    /** Builds the spec a configuration describes; a one-line error for anything wrong. */
    static VmSpec spec(Map<String, ?> props) {
        String name = string(props, "name", null);
        if (name == null) {
            throw new VmException("VM configuration has no 'name': add e.g. name = demo");
        }
        int vcpus = (int) number(props, "vcpus", 1);
        int maxPhyAddr = (int) number(props, "maxphyaddr", VmSpec.DEFAULT_MAXPHYADDR);
        Map<String, String> options = new java.util.LinkedHashMap<>();
        for (String key : List.of(VmSpec.MMU, VmSpec.POLICY, VmSpec.PAGING)) {
            String v = string(props, key, null);
            if (v != null) {
                options.put(key, v);
            }
        }
        String slots = string(props, "slots", null);
        if (slots != null) {
            return new VmSpec(name, vcpus, parseSlots(slots), maxPhyAddr, options);
        }
        long memory = parseSize(string(props, "memory", "1G"));
        VmSpec pc = VmSpec.pc(name, memory, vcpus);
        return new VmSpec(name, vcpus, pc.slots(), maxPhyAddr, options);
    }

    static List<SlotSpec> parseSlots(String text) {
        List<SlotSpec> out = new ArrayList<>();
        for (String item : text.split(",")) {
            String[] f = item.trim().split(":");
            if (f.length < 3) {
                throw new VmException("bad slot '" + item.trim() + "': accepted id:baseGfn:npages[:readonly][:dirtylog]");
            }
            int flags = 0;
            for (int i = 3; i < f.length; i++) {
                switch (f[i].trim().toLowerCase(Locale.ROOT)) {
                    case "readonly": flags |= Memslot.READONLY; break;
                    case "dirtylog": flags |= Memslot.LOG_DIRTY_PAGES; break;
                    default: throw new VmException("bad slot flag '" + f[i].trim() + "': accepted readonly, dirtylog");
                }
            }
            out.add(new SlotSpec((int) parseLong(f[0], "slot id"), parseLong(f[1], "base gfn"),
                    parseLong(f[2], "npages"), flags));
        }
        return out;
    }

    /** {@code 4096}, {@code 0x1000}, {@code 64M}, {@code 1G}, {@code 1T} (binary units). */
    static long parseSize(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        int shift = 0;
        if (!t.isEmpty() && !t.startsWith("0X")) {
            char unit = t.charAt(t.length() - 1);
            shift = switch (unit) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> 0;
            };
            if (shift != 0) {
                t = t.substring(0, t.length() - 1);
            }
        }
        long v = parseLong(t, "memory size");
        if (v < 0 || (shift != 0 && v > (Long.MAX_VALUE >> shift))) {
            throw new VmException("bad memory size '" + text + "': accepted bytes or a number with K, M, G or T");
        }
        return v << shift;
    }

    static long parseLong(String text, String what) {
        String t = text.trim();
        try {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return Long.parseUnsignedLong(t.substring(2), 16);
            }
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new VmException("bad " + what + " '" + t + "': accepted decimal or 0x hex");
        }
    }

    private static String string(Map<String, ?> props, String key, String dflt) {
        Object v = props.get(key);
        return v == null ? dflt : v.toString().trim();
    }

    private static long number(Map<String, ?> props, String key, long dflt) {
        Object v = props.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        return parseLong(v.toString(), key);
    }
}
