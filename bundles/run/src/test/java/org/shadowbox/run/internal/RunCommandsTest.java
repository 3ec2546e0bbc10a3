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
    void helpAndMistakesAreOneLine() throws Exception {
        assertTrue(cmd.compare("", "", "shadow", "1", "4", "1G", "0", OFF, OFF, ON, "x").contains("SYNTAX"));
        assertTrue(cmd.scenario("", "", "1", "0", OFF, OFF, ON, "x", "y").contains("SYNTAX\n        run:scenario [OPTIONS] VM SCENARIO\n"));
        assertEquals("bad scale '0': accepted 1 or more, 0x hex or decimal",
                assertThrows(VmException.class, () -> cmd.compare("0", "", "shadow", "1", "4", "1G", "0", OFF, OFF, OFF, "kernel-build")).getMessage());
        assertEquals("bad seed 'abc': accepted a 64-bit number, 0x hex or decimal",
                assertThrows(VmException.class, () -> cmd.compare("", "abc", "shadow", "1", "4", "1G", "0", OFF, OFF, OFF, "steady")).getMessage());
        assertEquals("bad --mmu 'ept': accepted shadow or tdp",
                assertThrows(VmException.class, () -> cmd.compare("", "", "ept", "1", "4", "1G", "0", OFF, OFF, OFF, "steady")).getMessage());
        String e = assertThrows(VmException.class, () -> cmd.compare("", "", "shadow", "1", "4", "1G", "0", OFF, OFF, OFF, "kernelbuild")).getMessage();
        assertTrue(e.startsWith("no scenario named 'kernelbuild': the scenarios are ") && !e.contains("\n"), e);
        e = assertThrows(VmException.class, () -> cmd.scenario("1", "", "1", "0", OFF, OFF, OFF, "nope", "steady")).getMessage();
        assertTrue(e.contains("nope") && !e.contains("\n"), e);
        e = assertThrows(IllegalArgumentException.class, () -> cmd._main("compare", new String[] {"--scal", "2", "steady"})).getMessage();
        assertTrue(e.startsWith("run:compare: unknown option '--scal'; accepted --scale SCALE, --seed SEED, --mmu MMU,"
                + " --threads THREADS, --vcpus VCPUS, --memory MEMORY, --warmup WARMUP, --predict, --json, --help"), e);
        assertTrue(rig.hv.vms().isEmpty(), "a refused command created no VM");
    }

    @Test
    void sizesAndWarmUpOutOfRangeAreRefusedInOneLineBeforeAnythingRuns() {
        assertEquals("bad --vcpus '0': accepted 1 to 64",
                assertThrows(VmException.class, () -> cmd.compare("", "", "shadow", "1", "0", "1G", "0", OFF, OFF, OFF, "steady")).getMessage());
        assertEquals("bad --vcpus '65': accepted 1 to 64",
                assertThrows(VmException.class, () -> cmd.compare("", "", "shadow", "1", "65", "1G", "0", OFF, OFF, OFF, "steady")).getMessage());
        String accepted = "accepted 16M to 64G (a number with K, M or G, or bytes, a multiple of 4 KiB)";
        for (String m : new String[] {"8M", "65G", "1T", "12x", "-1G", "16777217"}) {
            assertEquals("bad --memory '" + m + "': " + accepted, assertThrows(VmException.class,
                    () -> cmd.compare("", "", "shadow", "1", "4", m, "0", OFF, OFF, OFF, "steady")).getMessage());
        }
        assertEquals(16L << 20, RunCommands.memory("16M"));
        assertEquals(8L << 30, RunCommands.memory("8g"));
        assertEquals(64L << 30, RunCommands.memory("64G"));
        for (String w : new String[] {"-1", "1000001", "ten"}) {
            assertEquals("bad --warmup '" + w + "': accepted 0 to 1000000 units (processes done before the charged window opens)",
                    assertThrows(VmException.class, () -> cmd.compare("", "", "shadow", "1", "4", "1G", w, OFF, OFF, OFF, "steady"))
                            .getMessage());
        }
        assertEquals("bad --threads '5': accepted 1 to 4 (each compared VM's vCPUs)",
                assertThrows(VmException.class, () -> cmd.compare("", "", "shadow", "5", "4", "1G", "0", OFF, OFF, OFF, "steady")).getMessage());
        assertTrue(rig.hv.vms().isEmpty(), "a refused command created no VM");
    }

    @Test
    void aWarmUpNotBelowTheScenariosUnitsIsRefusedInOneLine() {
        // kernel-build at scale 1: 8 compilation units and make itself, 9 processes.
        String e = assertThrows(VmException.class, () -> cmd.compare("1", "", "shadow", "1", "2", "64M", "9", OFF, OFF, OFF,
                "kernel-build")).getMessage();
        assertTrue(e.contains("bad --warmup 9: kernel-build at scale 1 has 9 units; accepted 0 to 8 (or a larger --scale)")
                && !e.contains("\n"), e);
        assertTrue(rig.hv.vms().isEmpty(), "the compared VM went away");
    }

    @Test
    void scenarioPrintsTheSeedStyleTimesAndTheWork() throws Exception {
        rig.hv.createVm(VmSpec.pc("demo", 128L << 20, 2));
        String out = cmd.scenario("1", "5", "1", "0", OFF, OFF, OFF, "demo", "pt-reuse");
        assertTrue(out.startsWith("pt-reuse on VM demo: scale 1, seed 5, 2 vCPUs, 127.6 MiB, mmu=shadow, policy=pagetrack"), out);
        for (String line : List.of("\nreal ", "\nuser ", "\nsys ", "VM exits and entries (vm.exit 1200)", "\nfaults fixed ",
                "\nshadow pages zapped ", "host time ")) {
            assertTrue(out.contains(line), line + " in " + out);
        }
        String json = cmd.scenario("1", "5", "1", "0", OFF, ON, OFF, "demo", "pt-reuse");
        assertTrue(json.startsWith("{\"scenario\":\"pt-reuse\",\"vm\":\"demo\",\"mmu\":\"shadow\",\"policy\":\"pagetrack\""),
                json);
        assertTrue(json.contains("\"work\":{\"guest.access\":{\"count\":"), json);
    }

    /** Issue 13: a scale the scenario refuses, or a run that cannot start, fails the command before the guest boots. */
    @Test
    void aRunThatCannotStartFailsTheCommandAtOnceAndChangesNothing() throws Exception {
        var vm = rig.hv.createVm(VmSpec.pc("demo", 128L << 20, 2));
        long cr3 = vm.vcpu(0).get(org.shadowbox.vm.Register.CR3);
        long cr0 = vm.vcpu(0).get(org.shadowbox.vm.Register.CR0);
        for (String bg : List.of(OFF, ON)) {
            String e = assertThrows(VmException.class,
                    () -> cmd.scenario("1000000000", "", "1", "0", bg, OFF, OFF, "demo", "steady")).getMessage();
            assertEquals("scale too large: 1000000000 scale; accepted up to 1000000 (1000000 scale)", e);
            e = assertThrows(VmException.class,
                    () -> cmd.scenario("0x7fffffffffffffff", "", "1", "0", bg, OFF, OFF, "demo", "fork-storm")).getMessage();
            assertEquals("scale too large: 9223372036854775807 x 32 children; accepted up to 31250 (1000000 children)", e);
        }
        assertEquals("scale too large: 125001 x 8 compilation units; accepted up to 125000 (1000000 compilation units)",
                assertThrows(VmException.class, () -> cmd.compare("125001", "", "shadow", "1", "", "", "", OFF, OFF, OFF, "kernel-build"))
                        .getMessage());
        assertEquals(cr3, vm.vcpu(0).get(org.shadowbox.vm.Register.CR3), "the guest did not boot");
        assertEquals(cr0, vm.vcpu(0).get(org.shadowbox.vm.Register.CR0), "the guest did not boot");
        assertEquals(0, vm.memory().residentPages());
        assertEquals("no background runs (run:scenario VM SCENARIO --background starts one)", cmd.jobs(OFF, OFF));
        // A VM too small for the guest: refused before the boot, in the background too.
        var tiny = rig.hv.createVm(new VmSpec("tiny", 1, List.of(new org.shadowbox.vm.SlotSpec(0, 0, 0x180, 0)), 46));
        String e = assertThrows(VmException.class, () -> cmd.scenario("1", "", "1", "0", ON, OFF, OFF, "tiny", "steady"))
                .getMessage();
        assertTrue(e.startsWith("guest RAM too small: 128 usable pages above 1 MiB;"), e);
        assertEquals(0, tiny.vcpu(0).get(org.shadowbox.vm.Register.CR3));
        assertEquals("no background runs (run:scenario VM SCENARIO --background starts one)", cmd.jobs(OFF, OFF));
    }

    /** A background run leaves the shell free, holds its VM's vCPUs, and gives the same report as a foreground one. */
    @Test
    void aBackgroundRunHoldsItsVmAndWaitGivesTheSameReportAsAForegroundRun() throws Exception {
        rig.hv.createVm(VmSpec.pc("demo", 128L << 20, 2));
        assertEquals("no background runs (run:scenario VM SCENARIO --background starts one)", cmd.jobs(OFF, OFF));
        String started = cmd.scenario("2", "5", "1", "0", ON, OFF, OFF, "demo", "pt-reuse");
        assertEquals("run 1: pt-reuse on demo started in the background (run:jobs shows it, run:report 1 gives its report,"
                + " run:stop 1 stops it)", started);
        String jobs = cmd.jobs(OFF, OFF);
        assertTrue(jobs.startsWith(" ID  VM         SCENARIO       STATE     DONE       ACCESSES  STARTED\n  1  demo       pt-reuse"),
                jobs);
        String waited = cmd.report(OFF, OFF, "1");
        assertTrue(cmd.jobs(OFF, OFF).contains(" done "), cmd.jobs(OFF, OFF));
        assertTrue(cmd.jobs(ON, OFF).startsWith("[{\"id\":1,\"vm\":\"demo\",\"scenario\":\"pt-reuse\",\"state\":\"done\",\"percent\":100,"),
                cmd.jobs(ON, OFF));
        rig.hv.destroyVm("demo");
        rig.hv.createVm(VmSpec.pc("demo", 128L << 20, 2));
        String foreground = cmd.scenario("2", "5", "1", "0", OFF, OFF, OFF, "demo", "pt-reuse");
        assertEquals(withoutHostTime(foreground), withoutHostTime(waited), "same seed, same run, in either mode");
        assertEquals("bad run id 'x': accepted the number run:jobs shows",
                assertThrows(VmException.class, () -> cmd.report(OFF, OFF, "x")).getMessage());
        assertEquals("no background run 7: accepted 1",
                assertThrows(VmException.class, () -> cmd.stop(OFF, OFF, "7")).getMessage());
    }

    @Test
    void aBusyVmRefusesABackgroundRunAndRunStopEndsOneLeavingTheVmUsable() throws Exception {
        var vm = rig.hv.createVm(VmSpec.pc("demo", 128L << 20, 2));
        try (var held = vm.vcpu(1).claim("the shell's cpu:write")) {
            String e = assertThrows(VmException.class, () -> cmd.scenario("1", "", "1", "0", ON, OFF, OFF, "demo", "steady"))
                    .getMessage();
            assertTrue(e.startsWith("vCPU 1 of VM demo is busy: the shell's cpu:write;"), e);
            assertEquals("no background runs (run:scenario VM SCENARIO --background starts one)", cmd.jobs(OFF, OFF));
        }
        cmd.scenario("1000", "", "1", "0", ON, OFF, OFF, "demo", "steady");
        assertTrue(cmd.stop(OFF, OFF, "1").startsWith("run 1 (steady on demo): "));
        assertTrue(cmd.stop(ON, OFF, "1").startsWith("{\"id\":1,\"vm\":\"demo\",\"scenario\":\"steady\",\"state\":"),
                "run:stop --json");
        String e = assertThrows(VmException.class, () -> cmd.report(OFF, OFF, "1")).getMessage();
        assertEquals("run 1 (steady on demo) stopped: stopped by run:stop 1", e);
        assertEquals(null, vm.vcpu(0).claimedBy(), "the stopped run released its vCPUs");
        String out = cmd.scenario("1", "", "1", "0", OFF, OFF, OFF, "demo", "steady");
        assertTrue(out.startsWith("steady on VM demo"), "the VM runs on: " + out);
    }

    private static String withoutHostTime(String report) {
        return report.replaceAll("(?m)^report saved to .*$", "").replaceAll("(?m)^.*host time.*$", "").replaceAll("(?m)^.*host second.*$", "");
    }

    @Test
    void compareWritesTheTableAndThreeFilesAndTheGuestSawTheSame(@TempDir Path ws) throws IOException {
        System.setProperty("shadowbox.workspace", ws.toString());
        try {
            String out = cmd.compare("1", "", "shadow", "1", "4", "1G", "0", OFF, OFF, OFF, "kernel-build");
            assertTrue(out.startsWith("kernel-build: scale 1, seed 1; two fresh VMs of 4 vCPUs and 1023.6 MiB, mmu=shadow"), out);
            for (String line : List.of("legacy      pagetrack    change", "\nreal (s) ", "\nuser (s) ", "\nsys (s) ",
                    "\nemulations ", "\npte writes ", "\nunsyncs ", "\nremote TLB flushes ", "seed paper: sys (s)",
                    "guest-visible results: identical", "\nlive shadow pages, peak ", "\nmean hash chain ",
                    "predicted before the run, from a calibration run (scale 1, warm-up 0", "\n  sys change ",
                    "measured against predicted: sys ")) {
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
            assertTrue(json.contains("\"prediction\": {") && json.contains("\"sensitivity\": [")
                    && json.contains("\"n_used_mmu_pages_peak\"") && json.contains("\"mean_hash_chain\""), json);
            String svg = Files.readString(files.get(2));
            assertTrue(svg.startsWith("<svg ") && svg.contains(">sys (s)</text>") && svg.contains(">change (%)</text>")
                    && svg.contains("the seed's kernel build"), svg);
            assertFalse(rig.hv.vm("run-legacy").isPresent() || rig.hv.vm("run-pagetrack").isPresent(), "the VMs are gone");
        } finally {
            restoreWorkspace();
        }
    }

    @Test
    void everyScenarioReportIsSavedAsJsonAndItsPathPrinted(@TempDir Path ws) throws Exception {
        System.setProperty("shadowbox.workspace", ws.toString());
        try {
            rig.hv.createVm(VmSpec.pc("demo", 128L << 20, 2));
            String out = cmd.scenario("1", "", "1", "0", OFF, OFF, OFF, "demo", "steady");
            List<Path> files;
            try (Stream<Path> s = Files.list(ws.resolve("results"))) {
                files = s.sorted().toList();
            }
            assertEquals(1, files.size(), files.toString());
            Path f = files.get(0);
            assertTrue(f.getFileName().toString().matches("run-demo-steady-seed1-\\d{8}-\\d{6}\\.json"), f.toString());
            assertTrue(out.endsWith("\nreport saved to " + f), out);
            String json = Files.readString(f);
            assertTrue(json.contains("\"scenario\": \"steady\"") && json.contains("\"vm\": \"demo\""), json);
            String again = cmd.scenario("1", "", "1", "0", OFF, ON, OFF, "demo", "steady");
            assertTrue(again.contains("\"file\":\"" + ws.resolve("results").toString()), again);
            try (Stream<Path> s = Files.list(ws.resolve("results"))) {
                assertEquals(2, s.count(), "a second run does not overwrite the first");
            }
        } finally {
            restoreWorkspace();
        }
    }

    @Test
    void predictAloneRunsOnlyTheCalibrationAndWritesNothing(@TempDir Path ws) throws IOException {
        System.setProperty("shadowbox.workspace", ws.toString());
        try {
            String out = cmd.compare("4", "", "shadow", "1", "2", "64M", "4", ON, OFF, OFF, "kernel-build");
            assertTrue(out.startsWith("predicted before the run, from a calibration run (scale 1, warm-up 1, the same VMs and seed)"), out);
            assertTrue(out.contains("\n  sys change ") && out.contains("\n  real change ") && out.contains("ipi.wait"), out);
            assertFalse(out.contains("measured against predicted"), out);
            assertFalse(Files.exists(ws.resolve("results")), "no files for a prediction alone");
            assertTrue(rig.hv.vms().isEmpty(), "the calibration's VMs are gone");
        } finally {
            restoreWorkspace();
        }
    }

    @Test
    void compareUnderTdpWritesItsOwnFilesAndShowsThePageTrackLookups(@TempDir Path ws) throws IOException {
        System.setProperty("shadowbox.workspace", ws.toString());
        try {
            String out = cmd.compare("1", "", "tdp", "1", "4", "1G", "0", OFF, OFF, OFF, "steady");
            assertTrue(out.startsWith("steady: scale 1, seed 1; two fresh VMs of 4 vCPUs and 1023.6 MiB, mmu=tdp"), out);
            for (String line : List.of("legacy      pagetrack    change", "\nsys (s) ", "\npage-track lookups ",
                    "guest-visible results: identical")) {
                assertTrue(out.contains(line), line + " in " + out);
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(ws.resolve("results"))) {
                files = s.sorted().toList();
            }
            assertEquals(3, files.size(), files.toString());
            for (Path f : files) {
                assertTrue(f.getFileName().toString().matches("compare-steady-tdp-seed1-\\d{8}-\\d{6}\\.(csv|json|svg)"),
                        f.toString());
            }
            String json = Files.readString(files.get(1));
            assertTrue(json.contains("\"identical\": true") && json.contains("\"mmu\": \"tdp\""), json);
        } finally {
            restoreWorkspace();
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
        ProgressBar bar = new ProgressBar(new java.io.PrintStream(bytes, true), () -> false);
        bar.start("legacy").progress(5, 10, 1000);
        bar.progress(10, 10, 2000);
        bar.done();
        String s = bytes.toString();
        assertTrue(s.startsWith("\rlegacy     [###############---------------]  50%"), s);
        assertTrue(s.contains("[##############################] 100%") && s.endsWith(ProgressBar.ERASE) && !s.contains("\n"), s);
    }

    /** A run sent to the background (Gogo's {@code &}, or {@code bg}) draws nothing over the prompt until {@code fg}. */
    @Test
    void theProgressBarHidesWhileItsJobIsInTheBackground() throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        boolean[] bg = {false};
        ProgressBar bar = new ProgressBar(new java.io.PrintStream(bytes, true), () -> bg[0]);
        bar.start("steady").progress(1, 10, 100);
        assertTrue(bytes.toString().contains("10%"), bytes.toString());
        bg[0] = true;
        bytes.reset();
        Thread.sleep(260); // past the redraw interval
        bar.progress(5, 10, 500);
        String s = bytes.toString();
        assertEquals(ProgressBar.ERASE, s, "erased, nothing drawn");
        bytes.reset();
        bar.progress(10, 10, 1000);
        assertEquals("", bytes.toString(), "nothing while in the background");
        bg[0] = false;
        bar.progress(10, 10, 1000);
        assertTrue(bytes.toString().contains("100%"), "drawn again in the foreground: " + bytes);
    }

    /** The workspace the build gives every test (surefire's shadowbox.workspace, under target/). */
    private static final String BUILD_WORKSPACE = System.getProperty("shadowbox.workspace");

    private static void restoreWorkspace() {
        if (BUILD_WORKSPACE == null) {
            System.clearProperty("shadowbox.workspace");
        } else {
            System.setProperty("shadowbox.workspace", BUILD_WORKSPACE);
        }
    }
}
