package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VcpuClaim;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmStats;
import org.shadowbox.vm.internal.HypervisorImpl;

/** The commands end to end, through Gogo 1.1.6, against the real vm bundle. */
class CommandsTest {

    private HypervisorImpl hv;
    private GogoShell shell;
    private final List<String> emulatedWrites = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        hv = new HypervisorImpl();
        hv.configure(budgets("4G", ""));
        hv.addWriteListener((EmulatedWriteListener) (vcpu, gpa, value, bytes) -> emulatedWrites.add(
                vcpu.id() + ":0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(value) + "/" + bytes));
        shell = new GogoShell(new VmCommands(hv), new SlotCommands(hv), new MemCommands(hv), new CpuCommands(hv),
                new TrackCommands(hv));
        shell.execute("vm:create demo --vcpus 2");
    }

    /** The budgets of Configuration Admin PID org.shadowbox.budget, fixed so the tables do not follow -Xmx. */
    static org.shadowbox.vm.internal.BudgetConfig budgets(String sandbox, String vm) {
        return new org.shadowbox.vm.internal.BudgetConfig() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return org.shadowbox.vm.internal.BudgetConfig.class;
            }

            @Override
            public String sandbox() {
                return sandbox;
            }

            @Override
            public String vm() {
                return vm;
            }
        };
    }

    @AfterEach
    void tearDown() {
        shell.close();
    }

    @Test
    void aVmAtItsBudgetRefusesTheNextPageInOneLineAndStaysUsable() throws Exception {
        shell.execute("vm:create big --memory 1T --budget 1M");
        String budget = shell.print("vm:budget big");
        assertTrue(budget.startsWith("vm:             big\nown:            1 MiB\nheld:           0 B\n"
                + "headroom:       1 MiB\nsandbox budget: 4 GiB\n"), budget);
        for (int i = 0; i < 256; i++) {
            shell.execute("mem:write big 0x" + Long.toHexString((0x100L + i) << 12) + " " + (i + 1));
        }
        Exception e = assertThrows(Exception.class, () -> shell.execute("mem:write big 0x" + Long.toHexString(0x400L << 12) + " 1"));
        assertTrue(e.getMessage().startsWith("VM big memory budget exhausted: it holds 1 MiB of 1 MiB, so making another"
                + " 4 KiB guest page resident was refused and nothing was written; raise it with vm:budget big SIZE"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(shell.print("mem:read big 0x" + Long.toHexString(0x1ffL << 12)).contains("0x100 (256)"));
        shell.execute("vm:budget big 2M");
        shell.execute("mem:write big 0x" + Long.toHexString(0x400L << 12) + " 1");
        assertTrue(shell.print("vm:info big").contains("\nbudget:\n  vm:             big\n  own:            2 MiB\n"
                + "  held:           1.0 MiB\n"), shell.print("vm:info big"));
        Exception low = assertThrows(Exception.class, () -> shell.execute("vm:budget big 1M"));
        assertTrue(low.getMessage().startsWith("memory budget 1 MiB for VM big is below the 1.0 MiB it holds now: accepted at least 1052672 bytes"), low.getMessage());
        Exception bad = assertThrows(Exception.class, () -> shell.execute("vm:create x --budget 12"));
        assertEquals("bad --budget '12': accepted 1M or more (e.g. 256M, 4G), or none", bad.getMessage());
        assertFalse(hv.vm("x").isPresent(), "a refused create creates nothing");
    }

    /**
     * Issue 13: a fill of a million pages of a huge sparse VM is checked against the budgets as
     * a whole: one line, nothing written, and the shell and the VM keep working.
     */
    @Test
    void aFillPastTheBudgetIsOneLineAndWritesNothing() throws Exception {
        shell.execute("vm:create big --memory 1T --budget 8M");
        shell.execute("mem:write big 0x100000 7");
        Exception e = assertThrows(Exception.class, () -> shell.execute("mem:fill big 0x100000 4G 0x5a"));
        assertEquals("mem:fill of 4 GiB would make more than 7.9 MiB of new guest pages resident, past the VM big"
                + " memory budget: it holds 4 KiB of 8 MiB; raise it with vm:budget big SIZE; nothing was written",
                e.getMessage());
        assertEquals(1, hv.require("big").memory().residentPages());
        assertEquals(7, hv.require("big").memory().read(0x100000, 1));
        assertTrue(shell.print("mem:fill big 0x100000 8M 0x5a").contains("new pages: 2047"),
                shell.print("vm:budget big")); // the page already resident costs nothing
        assertEquals(0x5a5a5a5a5a5a5a5aL, hv.require("big").memory().read(0x8ff_ff8L, 8));
        assertEquals(0L, hv.require("big").memory().read(0x900_000L, 8));
        Exception hole = assertThrows(Exception.class, () -> shell.execute("mem:fill demo 0x9f000 8K 1"));
        assertEquals("gpa 0xa0000 of the range is in no memslot (an MMIO hole): accepted a range of writable guest RAM"
                + " (slot:list demo)", hole.getMessage());
        assertEquals(0, hv.require("demo").memory().residentPages(), "nothing written before the hole either");
        assertEquals("bad LENGTH 0: accepted 1 byte to 1T",
                assertThrows(Exception.class, () -> shell.execute("mem:fill demo 0x1000 0 1")).getMessage());
        assertTrue(shell.print("mem:fill --help").contains("mem:fill [OPTIONS] VM GPA LENGTH VALUE"));
    }

    @Test
    void vmCreateListInfoDestroy() throws Exception {
        assertEquals(String.join("\n",
                "NAME  VCPUS      MEMORY   PAGES  SLOTS  RESIDENT  HELD  BUDGET",
                "demo      2  1023.6 MiB  262048      2         0   0 B   4 GiB"), shell.print("vm:list"));
        assertEquals("[{\"name\":\"demo\",\"vcpus\":2,\"memory\":1073348608,\"pages\":262048,\"slots\":2,\"resident\":0,"
                + "\"held\":0,\"budget\":4294967296}]",
                shell.print("vm:list --json"));
        shell.execute("vm:create big --memory 1T");
        assertEquals((1L << 28) - 0x60, Rows.pages(hv.require("big")), "1 TiB is declared, nothing allocated");
        String info = shell.print("vm:info demo");
        assertTrue(info.startsWith("name:         demo\nid:           0\nvcpus:        2\n"), info);
        assertTrue(info.contains("\ngfn limit:    0x400000000\n"), info);
        assertTrue(info.contains("\n  VCPU         CR0  CR2  CR3   CR4   EFER  RFLAGS\n     0  0x80010011  0x0  0x0  0x20  0xd00     0x2\n"),
                info);
        assertTrue(info.contains("\nstats:\n  emulated writes:     0\n"), info);
        assertTrue(shell.print("vm:info demo --json").startsWith("{\"name\":\"demo\",\"id\":0,\"vcpus\":2,"));
        assertEquals("destroyed: big\nmemory:    1023.9 GiB\nresident:  0", shell.print("vm:destroy big"));
        assertTrue(hv.vm("big").isEmpty());
    }

    @Test
    void badVmArgumentsChangeNothing() {
        assertEquals("bad --memory '12Q': unknown suffix 'Q'; " + Sizes.ACCEPTED, shell.error("vm:create x --memory 12Q"));
        assertEquals("bad --vcpus '0': accepted 1 to 64", shell.error("vm:create x --vcpus 0"));
        assertEquals("bad --vcpus 'two': " + Numbers.ACCEPTED, shell.error("vm:create x --vcpus two"));
        assertTrue(shell.error("vm:create x --memory 4096").startsWith("bad memory size 4096: accepted"));
        assertTrue(shell.error("vm:create bad/name").startsWith("bad VM name 'bad/name'"));
        assertTrue(shell.error("vm:create demo").contains("demo"), "name taken");
        assertTrue(shell.error("vm:info nope").contains("nope"));
        assertEquals(1, hv.vms().size());
    }

    @Test
    void slotAddTakesTheLowestFreeIdOrTheOneGiven() throws Exception {
        assertTrue(shell.print("slot:add demo 0x80000 16 --readonly").startsWith("id:       2\nbase gfn: 0x80000\n"));
        assertEquals(Memslot.READONLY, hv.require("demo").slot(2).flags());
        shell.execute("slot:add demo 7 0x90000 0x10 --dirty-log --readonly");
        assertEquals(Memslot.READONLY | Memslot.LOG_DIRTY_PAGES, hv.require("demo").slot(7).flags());
        shell.execute("slot:add demo 0xa0000 1");
        assertEquals(0xa0000, hv.require("demo").slot(3).baseGfn(), "2 taken, 3 is the lowest free");
        assertEquals(String.join("\n",
                "ID  BASE GFN  NPAGES  END GFN      SIZE  FLAGS               RESIDENT  TRACKED",
                " 0       0x0     160     0xa0   640 KiB  -                          0        -",
                " 1     0x100  261888  0x40000  1023 MiB  -                          0        -",
                " 2   0x80000      16  0x80010    64 KiB  readonly                   0        -",
                " 7   0x90000      16  0x90010    64 KiB  readonly,dirty-log         0        -",
                " 3   0xa0000       1  0xa0001     4 KiB  -                          0        -"),
                shell.print("slot:list demo"));
    }

    @Test
    void badSlotArgumentsChangeNothing() throws Exception {
        List<Memslot> before = hv.require("demo").memslots();
        assertEquals("bad SLOT_ID '512': accepted 0 to 511", shell.error("slot:add demo 512 0x80000 1"));
        assertEquals("bad BASE_GFN 'zz': " + Numbers.ACCEPTED, shell.error("slot:add demo zz 1"));
        assertTrue(shell.error("slot:add demo 0x50 16").contains("overlap"), "overlaps slot 0");
        assertTrue(shell.error("slot:add demo 0x80000 0").startsWith("bad slot size of 0 pages"), "zero pages");
        assertTrue(shell.error("slot:add demo 0 0x80000 1").contains("slot 0"), "id in use");
        assertEquals("no slot 9 in VM demo: slots are 0, 1", shell.error("slot:delete demo 9"));
        assertEquals("bad NEW_BASE_GFN '-5': " + Numbers.ACCEPTED, shell.error("slot:move demo 0 -5"));
        assertEquals(before, hv.require("demo").memslots());
    }

    @Test
    void slotMoveAndDelete() throws Exception {
        shell.execute("slot:add demo 5 0x80000 16");
        hv.require("demo").memory().write(0x80000L << 12, 0x55, 1);
        assertEquals(String.join("\n",
                "vm:           demo",
                "id:           5",
                "old base gfn: 0x80000",
                "new base gfn: 0x90000",
                "npages:       16",
                "resident:     1"), shell.print("slot:move demo 5 0x90000"));
        assertEquals(0x55, hv.require("demo").memory().read(0x90000L << 12, 1), "memory moved with the slot");
        assertEquals("{\"vm\":\"demo\",\"id\":5,\"baseGfn\":589824,\"npages\":16,\"residentFreed\":1}",
                shell.print("slot:delete demo 5 --json"));
        assertNull(hv.require("demo").slot(5));
    }

    @Test
    void memReadWriteIsHostSideAndNotifiesNobody() throws Exception {
        assertEquals(String.join("\n",
                "vm:       demo",
                "gpa:      0x1000",
                "size:     8",
                "value:    0x1122334455667788 (1234605616436508552)",
                "backing:  slot 0",
                "notified: no"), shell.print("mem:write demo 0x1000 0x1122334455667788"));
        assertEquals("{\"vm\":\"demo\",\"gpa\":4096,\"size\":4,\"value\":1432778632,\"backing\":\"slot 0\"}",
                shell.print("mem:read demo 4096 --size 4 --json"));
        assertEquals("{\"vm\":\"demo\",\"gpa\":655360,\"size\":8,\"value\":18446744073709551615,\"backing\":\"mmio hole\"}",
                shell.print("mem:read demo 0xa0000 --json"), "an MMIO hole reads all ones");
        assertTrue(emulatedWrites.isEmpty(), "host-side: " + emulatedWrites);
        assertEquals("bad VALUE '0x100': does not fit in 1 byte; accepted 0x0 to 0xff (or pass a larger --size)",
                shell.error("mem:write demo 0x1000 0x100 --size 1"));
        assertEquals(0x88, hv.require("demo").memory().read(0x1000, 1), "refused write changed nothing");
    }

    @Test
    void cpuWriteIsAnEmulatedWriteThatNotifies() throws Exception {
        shell.execute("cpu:write demo 1 0x2000 0xabcd --size 2");
        assertEquals(List.of("1:0x2000=0xabcd/2"), emulatedWrites);
        assertEquals(0xabcd, hv.require("demo").memory().read(0x2000, 2));
        emulatedWrites.clear();
        shell.execute("cpu:write demo 0 0x2ffe 0x11223344 --size 4");
        assertEquals(List.of("0:0x2ffe=0x3344/2", "0:0x3000=0x1122/2"), emulatedWrites, "split at the page boundary");
        emulatedWrites.clear();
        assertEquals(0, Rows.emulatedWriteParts(hv.require("demo"), 0xa0000, 8));
        shell.execute("cpu:write demo 0 0xa0000 1");
        assertTrue(emulatedWrites.isEmpty(), "an MMIO write is dropped and notifies nobody");
        assertEquals("no vCPU 2 in VM demo: accepted 0 to 1", shell.error("cpu:write demo 2 0 0"));
        assertEquals("bad VCPU 'x': " + Numbers.ACCEPTED, shell.error("cpu:write demo x 0 0"));
        assertTrue(emulatedWrites.isEmpty());
    }

    /** A vCPU a run drives is refused to the shell in one line; nothing is written, nothing notified. */
    @Test
    void commandsThatDriveABusyVcpuAreRefusedAndChangeNothing() throws Exception {
        Vm vm = hv.require("demo");
        vm.memory().write(0x2000, 0x1111, 8);
        long cr3 = vm.vcpu(1).get(Register.CR3);
        try (VcpuClaim run = vm.vcpu(1).claim("scenario kernel-build (seed 1)")) {
            for (String cmd : List.of("cpu:write demo 1 0x2000 0xabcd", "cpu:cmpxchg demo 1 0x2000 0x1111 7",
                    "cpu:set demo 1 cr3 0x5000")) {
                String e = shell.error(cmd);
                assertTrue(e.startsWith("vCPU 1 of VM demo is busy: scenario kernel-build (seed 1) has it since "), e);
                assertFalse(e.contains("\n"), e);
            }
            assertEquals(0x1111, vm.memory().read(0x2000, 8));
            assertEquals(cr3, vm.vcpu(1).get(Register.CR3));
            assertTrue(emulatedWrites.isEmpty());
            shell.execute("cpu:write demo 0 0x2000 0xabcd");
            assertEquals(List.of("0:0x2000=0xabcd/8"), emulatedWrites, "another vCPU is free");
            assertEquals("scenario kernel-build (seed 1)", vm.vcpu(1).claimedBy(), "the run keeps its vCPU");
        }
        assertNull(vm.vcpu(0).claimedBy(), "the shell's claim ends with its command");
        shell.execute("cpu:write demo 1 0x2000 0xbeef");
        assertEquals(0xbeef, vm.memory().read(0x2000, 8));
    }

    @Test
    void cpuCmpxchgNotifiesOnlyWhenItExchanges() throws Exception {
        hv.require("demo").memory().write(0x1000, 0x55667788, 4);
        String failed = shell.print("cpu:cmpxchg demo 0 0x1000 1 7 --size 4");
        assertTrue(failed.contains("exchanged:     no\ncurrent:       0x55667788\n"), failed);
        assertTrue(emulatedWrites.isEmpty());
        assertEquals("{\"vm\":\"demo\",\"vcpu\":0,\"gpa\":4096,\"size\":4,\"old\":1432778632,\"newValue\":7,"
                + "\"exchanged\":true,\"current\":7,\"notifications\":0,\"notifiers\":null}",
                shell.print("cpu:cmpxchg demo 0 0x1000 0x55667788 7 --size 4 --json"));
        assertEquals(List.of("0:0x1000=0x7/4"), emulatedWrites);
        VmStats stats = hv.require("demo").stats();
        assertEquals(1, stats.cmpxchgFailed());
    }

    @Test
    void trackCommandsSayPageTrackIsNotRunning() {
        String expected = "page tracking is unavailable: the org.shadowbox.pagetrack bundle is not active (start it, then retry)";
        for (String c : new String[] {"track:add demo 0x1234", "track:remove demo 0x1234", "track:active demo 1",
                "track:list demo", "track:notifiers", "track:notifiers demo"}) {
            assertEquals(expected, shell.error(c), c);
        }
        Vm vm = hv.require("demo");
        assertFalse(vm.destroyed());
    }
}
