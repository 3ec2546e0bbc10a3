package org.shadowbox.gpu.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.guest.internal.Runner;
import org.shadowbox.vm.VmException;

/**
 * The gpu-driver scenario on the guest model, with a vCPU that traps writes to tracked pages:
 * its differential check passes, the tracker saw every kind of write, and a broken GPU is
 * caught by the differential check.
 */
class GpuDriverScenarioTest {
    private final GpuRig rig = new GpuRig();

    @AfterEach
    void close() {
        rig.close();
    }

    private ScenarioResult run(long scale, long seed) {
        Runner runner = new Runner();
        runner.add(new GpuDriverScenario(rig.gpus));
        return runner.run("gpu-driver", rig.vm, i -> new TrappingCpu(rig.vm.vcpu(i), rig.track), scale, seed, null);
    }

    @Test
    void theDriverRunsAndEveryBatchMatchesAGpuWalkingTheGuestTables() {
        ScenarioResult r = run(2, 42);
        assertEquals("gpu-driver", r.scenario());
        GpuStats.Snapshot s = rig.gpu.stats();
        assertEquals(0, s.trackedPages(), "the driver tore everything down");
        assertEquals(17, s.submits(), "16 rounds and the violation case");
        assertTrue(s.writesHandled() > 40, "entries written by the guest were handled: " + s);
        assertTrue(s.rejections() > 0 && s.rebuilds() > 0, "2-byte pieces were rejected and rebuilt: " + s);
        assertTrue(s.violations() >= 2, s.toString());
        assertTrue(s.scratchBytes() >= 4096 + 64, "the violation case went to scratch: " + s);
        assertEquals(0, rig.track.tracked(rig.vm).size(), "no page is left write-protected");
    }

    @Test
    void sameSeedSameGpuCounts() {
        run(1, 7);
        GpuStats.Snapshot first = rig.gpu.stats();
        GpuRig other = new GpuRig();
        try {
            Runner runner = new Runner();
            runner.add(new GpuDriverScenario(other.gpus));
            runner.run("gpu-driver", other.vm, i -> new TrappingCpu(other.vm.vcpu(i), other.track), 1, 7, null);
            assertEquals(first, other.gpu.stats());
        } finally {
            other.close();
        }
    }

    @Test
    void aGpuThatIgnoresTheRebuildIsCaughtByTheDifferentialCheck() {
        // Stale shadows: rejected pieces would never be picked up if the vGPU forgot the guest's
        // writes. Simulated by unregistering the tracker's notifier: the shadow never moves.
        rig.core.unregister(rig.gpus);
        VmException e = assertThrows(VmException.class, () -> run(2, 42));
        assertTrue(e.getMessage().contains("gpu-driver"), e.getMessage());
    }
}
