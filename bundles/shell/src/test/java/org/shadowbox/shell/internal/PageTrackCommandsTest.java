package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.internal.HypervisorImpl;

/** The track commands, and what cpu:write tells notifiers, against the real page-track core. */
class PageTrackCommandsTest {

    static final String SHELL = "org.shadowbox.shell";

    private HypervisorImpl hv;
    private PageTrackCore core;
    private PageTrack other;
    private GogoShell shell;
    private final List<String> seen = new ArrayList<>();
    private final PageTrackNotifier recorder = new PageTrackNotifier() {
        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
            seen.add(vm.name() + " " + vcpuId + ":0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(value) + "/"
                    + bytes);
        }
    };

    @BeforeEach
    void setUp() throws Exception {
        hv = new HypervisorImpl();
        core = new PageTrackCore();
        hv.addVmListener(core);
        hv.addWriteListener(core);
        PageTrack mine = core.forOwner(SHELL);
        other = core.forOwner("org.example.audit");
        VmCommands vm = new VmCommands(hv);
        SlotCommands slot = new SlotCommands(hv);
        CpuCommands cpu = new CpuCommands(hv);
        TrackCommands track = new TrackCommands(hv);
        vm.pageTrack = mine;
        slot.pageTrack = mine;
        cpu.pageTrack = mine;
        track.pageTrack = mine;
        shell = new GogoShell(vm, slot, new MemCommands(hv), cpu, track);
        shell.execute("vm:create demo --vcpus 2");
    }

    @AfterEach
    void tearDown() {
        shell.close();
    }

    @Test
    void addListActiveRemove() throws Exception {
        assertEquals(String.join("\n",
                "vm:      demo",
                "action:  add",
                "gfn:     0x1234",
                "mode:    write",
                "applied: yes",
                "count:   1",
                "owner:   " + SHELL,
                "active:  yes"), shell.print("track:add demo 0x1234"));
        other.add(hv.require("demo"), 0x1234, TrackMode.WRITE);
        shell.execute("track:add demo 4661 --mode WRITE");
        assertEquals(String.join("\n",
                "   GFN  MODE   COUNT  OWNERS",
                "0x1234  write      2  org.example.audit=1, org.shadowbox.shell=1",
                "0x1235  write      1  org.shadowbox.shell=1"), shell.print("track:list demo"));
        assertEquals("[{\"gfn\":4660,\"mode\":\"write\",\"count\":2,\"owners\":{\"org.example.audit\":1,"
                + "\"org.shadowbox.shell\":1}},{\"gfn\":4661,\"mode\":\"write\",\"count\":1,\"owners\":"
                + "{\"org.shadowbox.shell\":1}}]", shell.print("track:list demo --json"));
        assertEquals("{\"vm\":\"demo\",\"gfn\":4660,\"mode\":\"write\",\"active\":true,\"count\":2}",
                shell.print("track:active demo 0x1234 --json"));
        String slots = shell.print("slot:list demo");
        assertTrue(slots.contains("\n 1     0x100  261888  0x40000  1023 MiB  -             0        2"),
                "slot 1 holds the two tracked gfns: " + slots);

        shell.execute("track:remove demo 0x1234");
        assertEquals(1, other.count(hv.require("demo"), 0x1234, TrackMode.WRITE), "the other owner's track stays");
        String refused = shell.error("track:remove demo 0x1234");
        assertTrue(refused.startsWith("owner org.shadowbox.shell holds no write track of gfn 0x1234"), refused);
        assertEquals(1, other.count(hv.require("demo"), 0x1234, TrackMode.WRITE), "refused: nothing changed");
        assertTrue(shell.print("track:active demo 0x1234").contains("active: yes"));
    }

    @Test
    void badTrackArgumentsChangeNothing() {
        assertEquals("unknown track mode 'read': accepted write", shell.error("track:add demo 0x1234 --mode read"));
        assertEquals("bad GFN 'x': " + Numbers.ACCEPTED, shell.error("track:add demo x"));
        String hole = shell.error("track:add demo 0xa0");
        assertTrue(hole.startsWith("cannot track gfn 0xa0: it is in no memslot of VM demo"), "legacy hole: " + hole);
        assertTrue(shell.error("track:add nope 1").contains("nope"));
        assertTrue(core.forOwner(SHELL).tracked(hv.require("demo")).isEmpty());
    }

    @Test
    void cpuWriteTellsNotifiersAndMemWriteDoesNot() throws Exception {
        core.register(recorder, "org.example.recorder");
        shell.execute("track:add demo 0x2");
        shell.execute("mem:write demo 0x2008 0x99");
        assertTrue(seen.isEmpty(), "host-side write: " + seen);
        String out = shell.print("cpu:write demo 1 0x2008 0xabcd --size 2");
        assertEquals(List.of("demo 1:0x2008=0xabcd/2"), seen, "told once, after the write");
        assertTrue(out.contains("notifications: 1\nnotifiers:     " + recorder.getClass().getName()), out);
        seen.clear();
        shell.execute("cpu:cmpxchg demo 0 0x2008 0x1 0x2 --size 2");
        assertTrue(seen.isEmpty(), "a failed cmpxchg tells nobody");
        shell.execute("cpu:cmpxchg demo 0 0x2008 0xabcd 0x2 --size 2");
        assertEquals(List.of("demo 0:0x2008=0x2/2"), seen);
        String notifiers = shell.print("track:notifiers demo");
        assertTrue(notifiers.startsWith("VM    NAME"), notifiers);
        assertTrue(notifiers.contains("org.example.recorder"), notifiers);
        assertTrue(shell.print("track:notifiers --json").contains("\"calls\":2"), "two writes delivered");
    }

    @Test
    void slotMoveIsRefusedWhileTheShellHoldsTracksInIt() throws Exception {
        shell.execute("slot:add demo 5 0x80000 16");
        shell.execute("track:add demo 0x80001");
        String refused = shell.error("slot:move demo 5 0x90000");
        assertTrue(refused.startsWith("cannot move slot 5 of VM demo"), refused);
        assertEquals(0x80000, hv.require("demo").slot(5).baseGfn(), "refused: not moved");
        shell.execute("track:remove demo 0x80001");
        shell.execute("slot:move demo 5 0x90000");
        assertEquals(0x90000, hv.require("demo").slot(5).baseGfn());
    }
}
