package org.shadowbox.pagetrack.internal;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.shadowbox.pagetrack.TrackMode.WRITE;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.spi.WriteProtectHook;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/** The notifier whiteboard (order, VM selection, delivery) and the MMU's write-protect hook. */
class NotifierTest {
    private final Rig rig = new Rig();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @Test
    void newestRegisteredIsCalledFirstAfterMemoryHoldsTheBytes() {
        Vm vm = rig.pc("n");
        rig.core.register(new Rig.Recorder("old", log), "b.old");
        rig.core.register((v, cpu, gpa, value, bytes) -> log.add("mid:memory=0x" + Long.toHexString(
                v.memory().read(gpa, bytes))), "b.mid");
        rig.core.register(new Rig.Recorder("new", log), "b.new");
        vm.vcpu(1).emulatorWritePhys(0x1234_010, 0xbeefL, 2);
        assertEquals(List.of("new:write n vcpu1 0x1234010=0xbeef/2", "mid:memory=0xbeef",
                "old:write n vcpu1 0x1234010=0xbeef/2"), log);
        assertEquals(List.of("b.new", "b.mid", "b.old"), rig.core.notifiers(vm).stream().map(NotifierInfo::bundle).toList());
    }

    @Test
    void notifiersAreNotFilteredByTrackingStateAndHostWritesNotifyNobody() {
        Vm vm = rig.pc("n");
        rig.core.register(new Rig.Recorder("r", log), "b.r");
        vm.vcpu(0).emulatorWritePhys(0x5000, 1, 1); // gfn 5 is not tracked: still delivered, as KVM
        vm.memory().write(0x5000, 2, 1);
        assertEquals(List.of("r:write n vcpu0 0x5000=0x1/1"), log);
        assertTrue(!vm.vcpu(0).emulatorCmpxchg(0x5000, 7, 9, 1), "memory holds 2");
        assertEquals(1, log.size(), "a failed cmpxchg notifies nothing");
        assertTrue(vm.vcpu(0).emulatorCmpxchg(0x5000, 2, 9, 1));
        assertEquals("r:write n vcpu0 0x5000=0x9/1", log.get(1));
    }

    @Test
    void theVmPropertySelectsVmsPresentAndFuture() {
        Vm a = rig.pc("a");
        rig.core.register(new Rig.Recorder("onlyB", log), "b.b", "b", "c");
        rig.core.register(new Rig.Recorder("all", log), "b.all");
        Vm b = rig.pc("b"); // created after both registered
        a.vcpu(0).emulatorWritePhys(0x1000, 1, 1);
        b.vcpu(0).emulatorWritePhys(0x1000, 2, 1);
        assertEquals(List.of("all:write a vcpu0 0x1000=0x1/1", "all:write b vcpu0 0x1000=0x2/1",
                "onlyB:write b vcpu0 0x1000=0x2/1"), log);
        assertEquals(1, rig.core.notifiers(a).size());
        assertEquals(2, rig.core.notifiers(b).size());
    }

    @Test
    void anUnregisteredNotifierIsNeverCalledAgain() {
        Vm vm = rig.pc("n");
        Rig.Recorder r = new Rig.Recorder("r", log);
        rig.core.register(r, "b.r");
        assertThrows(VmException.class, () -> rig.core.register(r, "b.r"), "registered twice");
        rig.core.unregister(r);
        vm.vcpu(0).emulatorWritePhys(0x1000, 1, 1);
        vm.deleteSlot(0);
        assertTrue(log.isEmpty(), log.toString());
        assertTrue(rig.core.notifiers(vm).isEmpty());
        rig.core.unregister(r); // unknown: nothing to do
    }

    /** Records the hook's calls; {@code changes} says what slotGfnWriteProtect reports. */
    private static final class Hook implements WriteProtectHook {
        final List<String> calls = new ArrayList<>();
        boolean changes;

        @Override
        public boolean slotGfnWriteProtect(Vm vm, Memslot slot, long gfn) {
            assertTrue(Platform.mmuLock(vm).isHeldByCurrentThread(), "called under the MMU lock");
            calls.add("wp slot" + slot.id() + " 0x" + Long.toHexString(gfn));
            return changes;
        }

        @Override
        public void flushRemoteTlbs(Vm vm) {
            calls.add("flush " + vm.name());
        }
    }

    @Test
    void writeAddWriteProtectsAndFlushesOnceOnlyIfSomethingChanged() {
        Vm vm = rig.pc("h");
        Hook hook = new Hook();
        rig.core.setWriteProtectHook(hook, "org.shadowbox.mmu");
        OwnerTrack pt = rig.core.forOwner("t");
        pt.add(vm, 0x200, WRITE);
        assertEquals(List.of("wp slot1 0x200"), hook.calls, "nothing mapped: no flush");
        hook.changes = true;
        pt.add(vm, 0x200, WRITE);
        assertEquals(List.of("wp slot1 0x200", "wp slot1 0x200", "flush h"), hook.calls);
        pt.remove(vm, 0x200, WRITE);
        pt.remove(vm, 0x200, WRITE);
        assertEquals(3, hook.calls.size(), "remove touches no mapping and flushes nothing");
    }

    @Test
    void theHookRunsEvenWhenTheCountIsAtItsBound() {
        Vm vm = rig.pc("h");
        OwnerTrack pt = rig.core.forOwner("t");
        for (int i = 0; i < SlotPageTrack.MAX_COUNT; i++) {
            pt.add(vm, 0x300, WRITE);
        }
        Hook hook = new Hook();
        hook.changes = true;
        rig.core.setWriteProtectHook(hook, "org.shadowbox.mmu");
        assertEquals(false, pt.add(vm, 0x300, WRITE));
        assertEquals(List.of("wp slot1 0x300", "flush h"), hook.calls, "KVM write-protects after a refused count");
    }

    @Test
    void aFailingHookIsContainedAndStillFlushes() {
        Vm vm = rig.pc("h");
        List<String> flushes = new ArrayList<>();
        rig.core.setWriteProtectHook(new WriteProtectHook() {
            @Override
            public boolean slotGfnWriteProtect(Vm v, Memslot slot, long gfn) {
                throw new IllegalStateException("mmu bug");
            }

            @Override
            public void flushRemoteTlbs(Vm v) {
                flushes.add(v.name());
            }
        }, "org.shadowbox.mmu");
        OwnerTrack pt = rig.core.forOwner("t");
        assertTrue(pt.add(vm, 0x400, WRITE));
        assertEquals(List.of("h"), flushes, "a hook that failed may have changed sptes: flush");
        assertEquals(1, pt.count(vm, 0x400, WRITE));
        rig.core.setWriteProtectHook(null, null);
        pt.add(vm, 0x400, WRITE);
        assertEquals(1, flushes.size(), "no hook, no MMU work");
    }

    @Test
    void aNotifierMayTrackFromItsCallback() {
        Vm vm = rig.pc("cb");
        OwnerTrack pt = rig.core.forOwner("cb.owner");
        PageTrackNotifier n = (v, cpu, gpa, value, bytes) -> pt.add(v, gpa >>> 12, WRITE);
        rig.core.register(n, "cb.owner");
        vm.vcpu(0).emulatorWritePhys(0x7000, 1, 8);
        assertTrue(pt.isActive(vm, 7, WRITE));
    }
}
