package org.shadowbox.writeflood.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.VmException;

/** {@code flood:stats} and {@code flood:config}: results, {@code --json}, {@code --help}, one-line refusals. */
class FloodCommandsTest {
    private final FloodRig rig = new FloodRig();
    private final FloodCommands cmd = new FloodCommands(rig.flood, rig.hv);

    @Test
    void statsShowTheCountersMoving() {
        String before = cmd.stats("false", "false", "t");
        assertTrue(before.contains("policy:") && before.contains("kvm"), before);
        assertTrue(before.contains("mmu_pte_write:") && before.matches("(?s).*mmu_pte_write: +0\\n.*"), before);
        rig.shadow();
        for (int i = 0; i < 3; i++) {
            rig.emulate(0, FloodRig.gpa(FloodRig.PD, 5), 0, 8);
        }
        String after = cmd.stats("false", "false", "t");
        assertTrue(after.matches("(?s).*mmu_pte_write: +3\\n.*"), after);
        assertTrue(after.matches("(?s).*mmu_flooded: +1\\n.*"), after);
        String json = cmd.stats("true", "false", "t");
        assertTrue(json.startsWith("{\"vm\":\"t\",\"policy\":\"kvm\",\"threshold\":3,\"counters\":{\"mmu_pte_write\":3,"), json);
    }

    @Test
    void configChangesThePolicyGloballyOrPerVm() {
        assertEquals("VM              POLICY  THRESHOLD\n(default)       kvm     3", cmd.config("", "", FloodCommands.EVERY_VM, "false", "false"));
        cmd.config("xen", "", "t", "false", "false");
        assertEquals(FloodPolicy.XEN, rig.flood.pteWrite.settings().forVm("t").policy());
        assertEquals(FloodPolicy.KVM, rig.flood.pteWrite.settings().forVm("other").policy());
        String json = cmd.config("", "5", FloodCommands.EVERY_VM, "true", "false");
        assertEquals("[{\"vm\":null,\"policy\":\"kvm\",\"threshold\":5},{\"vm\":\"t\",\"policy\":\"xen\",\"threshold\":3}]", json);
        rig.shadow();
        rig.emulate(0, FloodRig.gpa(FloodRig.PD, 5), 0, 8);
        assertEquals(1, rig.stat("xen_writes"), "the VM's own policy applies from the next write");
    }

    @Test
    void mistakesAreRefusedInOneLineAndChangeNothing() {
        Settings before = rig.flood.pteWrite.settings();
        VmException empty = assertThrows(VmException.class, () -> cmd.config("xen", "", "", "false", "false"));
        assertEquals("bad --vm '': accepted a VM name, 1 to 32 of A-Z a-z 0-9 _ . - (leave --vm out to change every VM)",
                empty.getMessage());
        assertTrue(cmd.config("", "", FloodCommands.EVERY_VM, "false", "false").contains("(default)       kvm"),
                "a refused --vm '' changed nothing");
        VmException e = assertThrows(VmException.class, () -> cmd.config("fast", "", FloodCommands.EVERY_VM, "false", "false"));
        assertEquals("unknown write-flood policy 'fast': accepted kvm, xen, zap", e.getMessage());
        e = assertThrows(VmException.class, () -> cmd.config("xen", "0", FloodCommands.EVERY_VM, "false", "false"));
        assertEquals("bad flood threshold 0: accepted 1 to 65535 (KVM's is 3)", e.getMessage());
        e = assertThrows(VmException.class, () -> cmd.config("", "x", FloodCommands.EVERY_VM, "false", "false"));
        assertTrue(e.getMessage().startsWith("bad flood threshold 'x'"), e.getMessage());
        assertEquals(before, rig.flood.pteWrite.settings());
        e = assertThrows(VmException.class, () -> cmd.stats("false", "false", "nope"));
        assertFalse(e.getMessage().contains("\n"));
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> cmd._main("config", new String[] {"--policy"}));
        assertTrue(u.getMessage().startsWith("flood:config: option --policy needs a value (POLICY)"), u.getMessage());
        u = assertThrows(IllegalArgumentException.class, () -> cmd._main("stats", new String[] {"--fast", "t"}));
        assertEquals("flood:stats: unknown option '--fast'; accepted --json, --help", u.getMessage());
        u = assertThrows(IllegalArgumentException.class, () -> cmd._main("stats", new String[] {}));
        assertEquals("flood:stats: missing VM; usage: flood:stats [OPTIONS] VM (flood:stats --help for details)", u.getMessage(),
                u.getMessage());
    }

    @Test
    void helpDescribesEachCommand() {
        String h = cmd.config("", "", FloodCommands.EVERY_VM, "false", "true");
        assertTrue(h.startsWith("DESCRIPTION\n        flood:config\n"), h);
        assertTrue(h.contains("SYNTAX\n        flood:config [OPTIONS]\n"), h);
        assertTrue(h.contains("OPTIONS\n        --policy POLICY\n"), h);
        assertEquals(h, cmd._main("config", new String[] {"--help"}));
        String s = (String) cmd._main("stats", new String[] {"--help"});
        assertTrue(s.contains("ARGUMENTS\n        VM\n                the VM's name"), s);
    }
}
