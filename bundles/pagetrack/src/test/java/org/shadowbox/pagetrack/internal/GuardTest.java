package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/** The SafeRunner-style guard: failures are contained, blamed, counted and finally disabled. */
class GuardTest {
    private final Rig rig = new Rig();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    /** Throws what {@code boom} makes on every call. */
    private static final class Thrower implements PageTrackNotifier {
        final Supplier<Throwable> boom;
        int calls;

        Thrower(Supplier<Throwable> boom) {
            this.boom = boom;
        }

        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
            calls++;
            sneaky(boom.get());
        }

        @Override
        public void trackRemoveRegion(Vm vm, long gfn, long npages) {
            calls++;
            sneaky(boom.get());
        }

        @SuppressWarnings("unchecked")
        private static <T extends Throwable> void sneaky(Throwable t) throws T {
            throw (T) t;
        }
    }

    private NotifierInfo info(Vm vm, String bundle) {
        return rig.core.notifiers(vm).stream().filter(i -> i.bundle().equals(bundle)).findFirst().orElseThrow();
    }

    @Test
    void runtimeLinkageAndAssertionErrorsAreContainedBlamedAndCounted() {
        Vm vm = rig.pc("g");
        rig.core.register(new Rig.Recorder("first", log), "good.first");
        rig.core.register(new Thrower(() -> new IllegalStateException("bad state\nsecond line")), "bad.runtime");
        rig.core.register(new Thrower(() -> new NoClassDefFoundError("com/missing/Type")), "bad.linkage");
        rig.core.register(new Thrower(() -> new AssertionError("assert")), "bad.assertion");
        rig.core.register(new Thrower(() -> new Exception("checked")), "bad.checked");
        rig.core.register(new Rig.Recorder("last", log), "good.last");

        vm.vcpu(0).emulatorWritePhys(0x1000, 5, 1);
        assertEquals(List.of("last:write g vcpu0 0x1000=0x5/1", "first:write g vcpu0 0x1000=0x5/1"), log,
                "the others are still called, in order");
        assertEquals("bundle bad.runtime: " + Thrower.class.getName() + ".trackWrite failed on VM g:"
                + " java.lang.IllegalStateException: bad state (failure 1)", info(vm, "bad.runtime").lastError());
        assertTrue(info(vm, "bad.linkage").lastError().contains("java.lang.NoClassDefFoundError: com/missing/Type"));
        assertTrue(info(vm, "bad.assertion").lastError().startsWith("bundle bad.assertion: "));
        assertTrue(info(vm, "bad.checked").lastError().contains("java.lang.Exception: checked"));
        for (String b : List.of("bad.runtime", "bad.linkage", "bad.assertion", "bad.checked")) {
            NotifierInfo i = info(vm, b);
            assertEquals(1, i.calls(), b);
            assertEquals(1, i.failures(), b);
            assertFalse(i.disabled(), b);
        }
        NotifierInfo good = info(vm, "good.first");
        assertEquals(new NotifierInfo(Rig.Recorder.class.getName(), "good.first", -1, 1, 0, false, null), good);
        assertNull(good.lastError());
    }

    @Test
    void aNotifierIsDisabledAfterMaxFailuresButStaysListed() {
        Vm vm = rig.pc("g");
        rig.core.setMaxFailures(3);
        Thrower bad = new Thrower(() -> new RuntimeException("again"));
        rig.core.register(bad, "bad.bundle");
        rig.core.register(new Rig.Recorder("good", log), "good.bundle");
        for (int i = 0; i < 5; i++) {
            vm.vcpu(1).emulatorWritePhys(0x2000 + i, i, 1);
        }
        vm.deleteSlot(0); // track_remove_region goes through the same guard
        assertEquals(3, bad.calls, "not called after its third failure");
        NotifierInfo i = info(vm, "bad.bundle");
        assertTrue(i.disabled());
        assertEquals(3, i.calls());
        assertEquals(3, i.failures());
        assertEquals(6, log.size(), "the good one got every write and the delete");
        assertEquals(6, info(vm, "good.bundle").calls());
    }

    @Test
    void theThresholdRefusesNonsense() {
        rig.core.setMaxFailures(0);
        assertEquals(NotifierGuard.DEFAULT_MAX_FAILURES, rig.core.guard().maxFailures());
        rig.core.setMaxFailures(2);
        assertEquals(2, rig.core.guard().maxFailures());
    }
}
