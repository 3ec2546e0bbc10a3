package org.shadowbox.run.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/** The run: commands as Gogo calls them (absent options as their absentValue), outside the framework. */
class RunCommandsTest {
    private static final String OFF = RunCommands.OFF;
    private static final String ON = RunCommands.ON;
    private final SimRig rig = new SimRig();
    private final RunCommands cmd = new RunCommands(rig.hv, rig.sim, CostModel.defaults(), null);

    @Test
    void listNamesEveryScenarioWithItsDefaultScale() {
        String out = cmd.list(OFF, OFF);
        assertTrue(out.startsWith("SCENARIO"), out);
        for (String s : List.of("kernel-build", "fork-storm", "pt-reuse", "steady")) {
            assertTrue(out.contains("\n" + s + " "), s + " in " + out);
        }
        String json = cmd.list(ON, OFF);
        assertTrue(json.startsWith("[{\"name\":\"fork-storm\",\"default_scale\":8,"), json);
    }

    @Test
    void helpAndMistakesAreOneLine() {
        assertTrue(cmd.compare("", "", "shadow", "1", OFF, ON, "x").contains("SYNTAX"));
        assertTrue(cmd.scenario("", "", "1", OFF, ON, "x", "y").contains("run:scenario [--scale SCALE]"));
        assertEquals("bad scale '0': accepted 1 or more, 0x hex or decimal",
                assertThrows(VmException.class, () -> cmd.compare("0", "", "shadow", "1", OFF, OFF, "kernel-build")).getMessage());
        assertEquals("bad seed 'abc': accepted a 64-bit number, 0x hex or decimal",
                assertThrows(VmException.class, () -> cmd.compare("", "abc", "shadow", "1", OFF, OFF, "steady")).getMessage());
        assertEquals("bad --mmu 'ept': accepted shadow or tdp",
                assertThrows(VmException.class, () -> cmd.compare("", "", "ept", "1", OFF, OFF, "steady")).getMessage());
        assertTrue(assertThrows(VmException.class, () -> cmd.compare("1", "", "tdp", "1", OFF, OFF, "steady")).getMessage()
                .startsWith("--mmu tdp: the MMU serves policy=legacy only with mmu=shadow"));
        String e = assertThrows(VmException.class, () -> cmd.compare("", "", "shadow", "1", OFF, OFF, "kernelbuild")).getMessage();
        assertTrue(e.startsWith("no scenario named 'kernelbuild': the scenarios are ") && !e.contains("\n"), e);
        e = assertThrows(VmException.class, () -> cmd.scenario("1", "", "1", OFF, OFF, "nope", "steady")).getMessage();
        assertTrue(e.contains("nope") && !e.contains("\n"), e);
        e = assertThrows(VmException.class, () -> cmd._main("compare", new String[] {"--scal", "2", "steady"})).getMessage();
        assertTrue(e.startsWith("run:compare: unknown option '--scal'; accepted --scale, --seed, --mmu, --threads, --json, --help"), e);
        assertTrue(rig.hv.vms().isEmpty(), "a refused command created no VM");
    }

    @Test
    void scenarioPrintsTheSeedStyleTimesAndTheWork() {
        rig.hv.createVm(VmSpec.pc("demo", 128L << 20, 2));
        String out = cmd.scenario("1", "5", "1", OFF, OFF, "demo", "pt-reuse");
        assertTrue(out.startsWith("pt-reuse on VM demo: scale 1, seed 5, 2 vCPUs, 127.6 MiB, mmu=shadow, policy=pagetrack"), out);
        for (String line : List.of("\nreal ", "\nuser ", "\nsys ", "VM exits and entries (vm.exit 1200)", "\nfaults fixed ",
                "\nshadow pages zapped ", "host time ")) {
            assertTrue(out.contains(line), line + " in " + out);
        }
        String json = cmd.scenario("1", "5", "1", ON, OFF, "demo", "pt-reuse");
        assertTrue(json.startsWith("{\"scenario\":\"pt-reuse\",\"vm\":\"demo\",\"mmu\":\"shadow\",\"policy\":\"pagetrack\""),
                json);
        assertTrue(json.contains("\"work\":{\"guest.access\":{\"count\":"), json);
    }

    @Test
    void compareWritesTheTableAndThreeFilesAndTheGuestSawTheSame(@TempDir Path ws) throws IOException {
        System.setProperty("shadowbox.workspace", ws.toString());
        try {
            String out = cmd.compare("1", "", "shadow", "1", OFF, OFF, "kernel-build");
            assertTrue(out.startsWith("kernel-build: scale 1, seed 1; two fresh VMs of 4 vCPUs and 1023.6 MiB, mmu=shadow"), out);
            for (String line : List.of("legacy      pagetrack    change", "\nreal (s) ", "\nuser (s) ", "\nsys (s) ",
                    "\nemulations ", "\npte writes ", "\nunsyncs ", "\nremote TLB flushes ", "seed paper: sys (s)",
                    "guest-visible results: identical")) {
                assertTrue(out.contains(line), line + " in " + out);
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(ws.resolve("results"))) {
                files = s.sorted().toList();
            }
            assertEquals(3, files.size(), files.toString());
            for (Path f : files) {
                assertTrue(f.getFileName().toString().matches("compare-kernel-build-seed1-\\d{8}-\\d{6}\\.(csv|json|svg)"), f.toString());
                assertTrue(out.contains(f.toString()), "the output says where " + f + " is");
            }
            String csv = Files.readString(files.get(0));
            assertTrue(csv.startsWith("metric,unit,legacy,pagetrack,change_percent\n\"real\",s,"), csv);
            String json = Files.readString(files.get(1));
            assertTrue(json.contains("\"identical\": true") && json.contains("\"policy\": \"legacy\""), json);
            String svg = Files.readString(files.get(2));
            assertTrue(svg.startsWith("<svg ") && svg.contains(">sys</text>"), svg);
            assertFalse(rig.hv.vm("run-legacy").isPresent() || rig.hv.vm("run-pagetrack").isPresent(), "the VMs are gone");
        } finally {
            System.clearProperty("shadowbox.workspace");
        }
    }

    @Test
    void batchModesAreQuiet() {
        assertTrue(ProgressBar.quiet(k -> k.equals("shadowbox.batch.command") ? "run:list" : null));
        assertTrue(ProgressBar.quiet(k -> k.equals("shadowbox.batch.file") ? "/x.gosh" : null));
        assertTrue(ProgressBar.quiet(k -> k.equals("gosh.args") ? "--nointeractive -c x" : null));
        assertFalse(ProgressBar.quiet(k -> null));
    }

    @Test
    void theProgressBarRedrawsInPlaceAndErasesItself() {
        var bytes = new java.io.ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new java.io.PrintStream(bytes, true));
        bar.start("legacy").progress(5, 10, 1000);
        bar.progress(10, 10, 2000);
        bar.done();
        String s = bytes.toString();
        assertTrue(s.startsWith("\rlegacy     [###############---------------]  50%"), s);
        assertTrue(s.contains("[##############################] 100%") && s.endsWith("\r") && !s.contains("\n"), s);
    }
}
