package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.command.Usage;
import org.shadowbox.vm.internal.HypervisorImpl;

/** How Gogo 1.1.6 itself dispatches to the commands: --help, arity errors, argument coercion. */
class GogoDispatchTest {

    private HypervisorImpl hv;
    private GogoShell shell;

    @BeforeEach
    void setUp() throws Exception {
        hv = new HypervisorImpl();
        shell = new GogoShell(new VmCommands(hv), new SlotCommands(hv), new MemCommands(hv), new CpuCommands(hv),
                new TrackCommands(hv));
    }

    @AfterEach
    void tearDown() {
        shell.close();
    }

    @Test
    void helpWorksWithAndWithoutTheRequiredArguments() throws Exception {
        String create = Usage.render("vm", "create", Usage.methods(VmCommands.class, "create"));
        assertEquals(create, shell.print("vm:create --help"), "NAME missing: through _main");
        assertEquals(create, shell.print("vm:create demo --help"), "all there: through the command");
        assertEquals(create, shell.print("vm:create --help --memory 1G"));
        assertTrue(shell.print("vm:list --help").startsWith("DESCRIPTION\n        vm:list\n"));
        assertTrue(shell.print("slot:add --help").contains("slot:add [OPTIONS] VM [SLOT_ID] BASE_GFN NPAGES"));
        assertTrue(shell.print("slot:add demo 1 2 3 4 5 --help").contains("SYNTAX"), "too many: still help");
        assertTrue(shell.print("track:notifiers --help").contains("track:notifiers [OPTIONS] [VM]"));
        assertTrue(hv.vms().isEmpty(), "help created nothing");
    }

    @Test
    void wrongArgumentsFailInOneLineNamingTheUsage() {
        assertEquals("vm:create: missing NAME; usage: vm:create [OPTIONS] NAME (vm:create --help for details)",
                shell.error("vm:create"));
        assertEquals("vm:create: unknown option '--bogus'; accepted --memory SIZE, --vcpus N, --mmu MMU,"
                + " --policy POLICY, --paging PAGING, --budget BUDGET, --json, --help",
                shell.error("vm:create x --bogus"));
        assertEquals("vm:create: option --memory needs a value (SIZE); usage: vm:create [OPTIONS] NAME"
                + " (vm:create --help for details)", shell.error("vm:create x --memory"));
        assertEquals("mem:read: missing GPA; usage: mem:read [OPTIONS] VM GPA (mem:read --help for details)",
                shell.error("mem:read demo"));
        assertTrue(shell.error("vm:info a b").startsWith("vm:info: too many arguments (2, at most 1 accepted)"));
        assertTrue(hv.vms().isEmpty(), "a refused command created nothing");
    }

    @Test
    void numbersReachTheCommandsAsTyped() throws Exception {
        shell.execute("vm:create t --memory 0x4000000 --vcpus 2");
        assertEquals(2, hv.require("t").vcpuCount());
        assertEquals(0x4000 - (0x100 - 0xa0), Rows.pages(hv.require("t")), "64 MiB less the 384 KiB legacy hole");
        // decimal tokens (which Gogo evaluates to Long) and hex tokens (which stay text) both arrive as typed
        shell.execute("mem:write t 4096 0x2a --size 1");
        assertEquals(0x2a, hv.require("t").memory().read(4096, 1));
        shell.execute("mem:write t 0x1001 255 --size 1");
        assertEquals(0xff2a, hv.require("t").memory().read(4096, 2));
        assertEquals("bad GPA '1e3': accepted 0x hex (0x1000) or decimal (4096)", shell.error("mem:read t 1e3"));
        assertEquals("bad --size '3': accepted 1, 2, 4 or 8 (bytes)", shell.error("mem:read t 0 --size 3"));
    }

    @Test
    void dirtyLogsAreHarvestedAsHexRanges() throws Exception {
        shell.execute("vm:create t --memory 64M");
        shell.execute("slot:add t --dirty-log 9 0x100000 0x100");
        shell.execute("cpu:write t 0 0x100001008 1 --size 8");
        shell.execute("cpu:write t 0 0x100002ffe 0x11223344 --size 4");
        shell.execute("mem:write t 0x100010000 5");
        String first = shell.print("slot:dirty t 9");
        assertTrue(first.contains("dirty: 4") && first.contains("gfns:  0x100001-0x100003, 0x100010"), first);
        assertTrue(shell.print("slot:dirty t 9").contains("gfns:  -"), "harvesting cleared the log");
        assertEquals("slot 1 of VM t keeps no dirty log: create it with slot:add --dirty-log",
                shell.error("slot:dirty t 1"));
        assertEquals("0x1-0x3, 0x7, 0x9-0xa", SlotCommands.ranges(new long[] {1, 2, 3, 7, 9, 10}));
    }
}
