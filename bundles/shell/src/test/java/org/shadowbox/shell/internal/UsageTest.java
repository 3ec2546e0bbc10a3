package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.junit.jupiter.api.Test;
import org.shadowbox.command.Usage;

class UsageTest {

    static final List<Class<? extends CommandSupport>> COMMANDS = List.of(VmCommands.class, SlotCommands.class,
            MemCommands.class, CpuCommands.class, TrackCommands.class, MmuCommands.class, PluginCommands.class);

    @Test
    void rendersKarafStyleHelpFromTheAnnotations() {
        assertEquals(String.join("\n",
                "DESCRIPTION",
                "        vm:create",
                "",
                "        create a VM laid out as a PC: slot 0 holds gfn 0x0-0x9f, slot 1 gfn 0x100 up to the memory size;"
                        + " its vCPUs start in the --paging mode",
                "",
                "SYNTAX",
                "        vm:create [OPTIONS] NAME",
                "",
                "ARGUMENTS",
                "        NAME",
                "                the VM's name: 1 to 32 of A-Z a-z 0-9 _ . -",
                "",
                "OPTIONS",
                "        --memory SIZE",
                "                guest memory: 4096, 0x1000, 64M, 1G, 1T (K M G T are binary); a multiple of 4 KiB"
                        + " above 1 MiB (default 1G)",
                "        --vcpus N",
                "                number of vCPUs, 1 to 64 (default 1)",
                "        --mmu MMU",
                "                the MMU: shadow (shadow paging, the seed's setting) or tdp (two-dimensional paging)"
                        + " (default shadow)",
                "        --policy POLICY",
                "                how shadowed page tables stay write-protected: pagetrack (KVM since 2016) or legacy"
                        + " (before) (default pagetrack)",
                "        --paging PAGING",
                "                the paging mode the vCPUs start in: 64, pae, 32 or off (the reset state) (default 64)",
                "        --budget BUDGET",
                "                host memory the VM's resident pages may take, e.g. 256M (at least 1M); none: only the"
                        + " sandbox's budget (the 'vm' default of org.shadowbox.budget applies when absent)",
                "        --json",
                "                print the result as one JSON value",
                "        --help",
                "                show this help"),
                Usage.render("vm", "create", Usage.methods(VmCommands.class, "create")));
    }

    @Test
    void overloadsMergeIntoOneSyntaxWithTheOptionalPartBracketed() {
        assertEquals("slot:add [OPTIONS] VM [SLOT_ID] BASE_GFN NPAGES",
                Usage.syntax("slot", "add", Usage.methods(SlotCommands.class, "add")));
        assertEquals("track:notifiers [OPTIONS] [VM]",
                Usage.syntax("track", "notifiers", Usage.methods(TrackCommands.class, "notifiers")));
        assertEquals("cpu:cmpxchg [OPTIONS] VM VCPU GPA OLD NEW_VALUE",
                Usage.syntax("cpu", "cmpxchg", Usage.methods(CpuCommands.class, "cmpxchg")));
        String help = Usage.render("slot", "add", Usage.methods(SlotCommands.class, "add"));
        assertTrue(help.contains("        SLOT_ID\n                slot id, 0 to 511 (optional"), help);
        assertTrue(help.contains("        --readonly\n"), help);
        assertTrue(help.contains("        --dirty-log\n"), help);
    }

    @Test
    void diagnosesWhyNoMethodFitInOneLine() {
        List<Method> create = Usage.methods(VmCommands.class, "create");
        String usage = "; usage: vm:create [OPTIONS] NAME (vm:create --help for details)";
        assertEquals("vm:create: missing NAME" + usage, Usage.diagnose("vm", "create", create, new String[0]));
        assertEquals("vm:create: too many arguments (2, at most 1 accepted): 'b' is extra" + usage,
                Usage.diagnose("vm", "create", create, new String[] {"a", "b"}));
        assertEquals("vm:create: unknown option '--mem'; accepted --memory SIZE, --vcpus N, --mmu MMU, --policy POLICY,"
                + " --paging PAGING, --budget BUDGET, --json, --help",
                Usage.diagnose("vm", "create", create, new String[] {"a", "--mem", "1G"}));
        assertEquals("vm:create: option --memory needs a value (SIZE)" + usage,
                Usage.diagnose("vm", "create", create, new String[] {"a", "--memory"}));
        assertEquals("vm:create: write '--memory 1G', not '--memory=1G'" + usage,
                Usage.diagnose("vm", "create", create, new String[] {"a", "--memory=1G"}));
        List<Method> add = Usage.methods(SlotCommands.class, "add");
        assertEquals("slot:add: missing NPAGES; usage: slot:add [OPTIONS] VM [SLOT_ID] BASE_GFN NPAGES"
                + " (slot:add --help for details)", Usage.diagnose("slot", "add", add, new String[] {"demo", "0x10"}));
        assertEquals("mem:write: missing VALUE; usage: mem:write [OPTIONS] VM GPA VALUE (mem:write --help for details)",
                Usage.diagnose("mem", "write", Usage.methods(MemCommands.class, "write"),
                        new String[] {"demo", "-1"}), "-1 is a number, not an option");
    }

    /**
     * What Gogo and the help renderer rely on, for every command of every class: a public
     * method per registered function and no other, @Descriptor on it and every parameter,
     * String parameters only (so a fitting method always beats _main), options before
     * positional parameters (Gogo moves option values to the front), parameter names kept.
     */
    @Test
    void everyCommandFollowsTheConventions() throws Exception {
        for (Class<? extends CommandSupport> type : COMMANDS) {
            Set<String> functions = new TreeSet<>(GogoShell.functions(type));
            Set<String> methods = new TreeSet<>();
            for (Method m : type.getMethods()) {
                if (m.getDeclaringClass() != type || Modifier.isStatic(m.getModifiers())) {
                    continue;
                }
                String name = m.getName().toLowerCase(Locale.ROOT);
                // A method named exactly after its function (cpu:set) is that command; getX, isX
                // and setX would also be taken for a command x.
                assertFalse(!functions.contains(m.getName())
                        && (name.startsWith("get") || name.startsWith("is") || name.startsWith("set")),
                        type.getSimpleName() + "." + m.getName() + ": Gogo would take it for command "
                                + name.substring(name.startsWith("is") ? 2 : 3));
                methods.add(m.getName());
                String where = type.getSimpleName() + "." + m.getName();
                assertNotNull(m.getAnnotation(Descriptor.class), where + " lacks @Descriptor");
                boolean positional = false;
                boolean hasJson = false;
                boolean hasHelp = false;
                for (java.lang.reflect.Parameter p : m.getParameters()) {
                    assertEquals(String.class, p.getType(), where + "(" + p.getName() + ")");
                    assertTrue(p.isNamePresent(), where + ": compile with -parameters");
                    assertNotNull(p.getAnnotation(Descriptor.class), where + "(" + p.getName() + ") lacks @Descriptor");
                    Parameter opt = p.getAnnotation(Parameter.class);
                    if (opt == null) {
                        positional = true;
                    } else {
                        assertFalse(positional, where + ": option " + opt.names()[0] + " after a positional parameter");
                        hasJson |= List.of(opt.names()).contains("--json");
                        hasHelp |= List.of(opt.names()).contains("--help");
                    }
                }
                assertTrue(hasJson && hasHelp, where + " lacks --json or --help");
            }
            assertEquals(functions, methods, type.getSimpleName() + ": functions vs public methods");
        }
    }
}
