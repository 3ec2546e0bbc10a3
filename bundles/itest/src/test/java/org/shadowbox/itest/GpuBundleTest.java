package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * The vGPU plugin as a user meets it: dropped into FileInstall's folder while a VM runs
 * kernel-build on the real MMU, attached to that VM, the gpu-driver scenario run with its
 * differential check and violation case, then the jar removed while the driver is in the
 * middle of a run: every page it write-protected is released and the MMU's invariants hold.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class GpuBundleTest {
    static final String GPU_BSN = "org.shadowbox.gpu";
    static final String GPU_COMMANDS = "(osgi.command.scope=gpu)";

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Mmu mmu;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    ScenarioRunner runner;

    private Path deploy;
    private Path dropped;
    private Vm vm;

    @BeforeEach
    void setUp() throws Exception {
        deploy = Path.of(context.getProperty("felix.fileinstall.dir"));
        Files.createDirectories(deploy);
        dropped = deploy.resolve("shadowbox-gpu.jar");
        Files.deleteIfExists(dropped);
        Itest.await("no gpu bundle before the test", () -> Itest.bundles(context, GPU_BSN).isEmpty());
        vm = hypervisor.createVm(VmSpec.pc("itest-gpu-" + System.nanoTime() % 100000, 128L << 20, 2));
    }

    @AfterEach
    void tearDown() throws Exception {
        Files.deleteIfExists(dropped);
        Itest.await("the gpu bundle is gone", () -> Itest.bundles(context, GPU_BSN).isEmpty());
        Itest.destroyQuietly(hypervisor, vm);
    }

    private Thread scenario(String name, long scale, long seed, AtomicReference<Object> outcome) {
        Thread t = new Thread(() -> {
            try {
                outcome.set(runner.run(name, vm, i -> mmu.cpu(vm, i), scale, seed, null));
            } catch (Throwable e) {
                outcome.set(e);
            }
        }, "vcpus-" + name);
        t.start();
        return t;
    }

    private static void join(Thread t, long seconds) throws InterruptedException {
        t.join(TimeUnit.SECONDS.toMillis(seconds));
        if (t.isAlive()) {
            fail(t.getName() + " did not finish in " + seconds + " s");
        }
    }

    private void drop() throws Exception {
        Path staged = Files.createTempFile(deploy.getParent(), "gpu", ".part");
        Files.copy(Itest.gpuJar(context), staged, StandardCopyOption.REPLACE_EXISTING);
        Files.move(staged, dropped, StandardCopyOption.ATOMIC_MOVE);
        Itest.await("FileInstall starts the gpu bundle", () -> {
            List<Bundle> b = Itest.bundles(context, GPU_BSN);
            return b.size() == 1 && b.get(0).getState() == Bundle.ACTIVE;
        });
        Itest.await("the gpu commands", () -> Itest.services(context, GPU_COMMANDS).length > 0);
        Itest.await("the gpu-driver scenario", () -> runner.scenarios().stream().anyMatch(s -> s.name().equals("gpu-driver")));
    }

    static long stat(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return Long.parseLong(m.group(1));
    }

    private long gpuTracks() {
        return pageTrack.tracked(vm).stream().filter(p -> p.owners().containsKey(GPU_BSN)).count();
    }

    @Test
    @Timeout(300)
    void hotInstalledWhileAVmRunsThenTheDriverRunsAndRemovingTheJarReleasesEveryPage() throws Exception {
        AtomicReference<Object> build = new AtomicReference<>();
        AtomicReference<Object> cut = new AtomicReference<>();
        Thread again;
        Thread running = scenario("kernel-build", 6, 11, build);
        drop();
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            assertEquals("vGPU of VM " + vm.name() + ": attached", gogo.run("gpu:attach " + vm.name()));
            assertTrue(running.isAlive(), "the VM still runs kernel-build when the vGPU is attached: " + build.get());
            join(running, 240);
            assertTrue(build.get() instanceof ScenarioResult, "kernel-build with the tracker attached: " + build.get());

            AtomicReference<Object> driver = new AtomicReference<>();
            join(scenario("gpu-driver", 2, 42, driver), 120);
            assertTrue(driver.get() instanceof ScenarioResult, "gpu-driver and its differential check: " + driver.get());
            String stats = gogo.run("gpu:stats --json " + vm.name());
            assertTrue(stat(stats, "writesHandled") > 40, stats);
            assertTrue(stat(stats, "rejections") > 0, stats);
            assertTrue(stat(stats, "rebuilds") > 0, stats);
            assertTrue(stat(stats, "violations") >= 2, "the violation case: " + stats);
            assertTrue(stat(stats, "scratchBytes") >= 4096, stats);
            assertEquals(17, stat(stats, "submits"), stats);
            assertEquals(0, stat(stats, "trackedPages"), "the driver's teardown unshadowed everything: " + stats);
            assertTrue(gogo.run("gpu:list").contains(vm.name()));
            assertEquals(List.of(), mmu.check(vm));

            // Now remove the jar in the middle of a long run.
            again = scenario("gpu-driver", 400, 43, cut);
            Thread t = again;
            Itest.await("the driver has tables shadowed", () -> gpuTracks() > 0 || !t.isAlive());
            assertTrue(again.isAlive(), "still running when the jar goes: " + cut.get());
        }
        Bundle gpu = Itest.bundles(context, GPU_BSN).get(0);
        Files.delete(dropped);
        Itest.await("FileInstall uninstalls the gpu bundle",
                () -> Itest.bundles(context, GPU_BSN).isEmpty() && gpu.getState() == Bundle.UNINSTALLED);
        assertEquals(0, gpuTracks(), "every page the vGPU write-protected was released: " + pageTrack.tracked(vm));
        assertTrue(pageTrack.notifiers(vm).stream().noneMatch(n -> n.bundle().equals(GPU_BSN)));
        join(again, 60);
        assertTrue(cut.get() instanceof Exception, "the run lost its vGPU and said so: " + cut.get());
        assertEquals(List.of(), mmu.check(vm));
        assertFalse(runner.scenarios().stream().anyMatch(s -> s.name().equals("gpu-driver")), "its scenario is gone");
        assertNotNull(vm.memory());
    }

    @Test
    @Timeout(180)
    void underTdpTheTrackerSeesTheSameWritesAndTheDriverPasses() throws Exception {
        Vm tdp = hypervisor.createVm(VmSpec.pc("itest-gpu-tdp-" + System.nanoTime() % 100000, 128L << 20, 2)
                .with(VmSpec.MMU, VmSpec.MMU_TDP));
        Bundle gpu;
        try (java.io.InputStream in = Files.newInputStream(Itest.gpuJar(context))) {
            gpu = context.installBundle("itest:gpu-tdp-" + System.nanoTime(), in);
        }
        try {
            gpu.start();
            Itest.await("the gpu-driver scenario", () -> runner.scenarios().stream().anyMatch(s -> s.name().equals("gpu-driver")));
            Object r;
            try {
                r = runner.run("gpu-driver", tdp, i -> mmu.cpu(tdp, i), 2, 42, null);
            } catch (RuntimeException e) {
                r = e;
            }
            assertTrue(r instanceof ScenarioResult, "gpu-driver on a TDP VM: " + r);
            try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
                String stats = gogo.run("gpu:stats --json " + tdp.name());
                assertTrue(stat(stats, "rejections") > 0 && stat(stats, "rebuilds") > 0, stats);
                assertTrue(stat(stats, "violations") >= 2, stats);
                assertEquals(17, stat(stats, "submits"), stats);
            }
            assertEquals(List.of(), mmu.check(tdp));
        } finally {
            gpu.uninstall();
            Itest.refresh(context);
            assertTrue(pageTrack.tracked(tdp).stream().noneMatch(p -> p.owners().containsKey(GPU_BSN)));
            Itest.destroyQuietly(hypervisor, tdp);
        }
    }
}
