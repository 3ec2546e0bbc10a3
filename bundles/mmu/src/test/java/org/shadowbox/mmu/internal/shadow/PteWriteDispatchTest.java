package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.spi.PteWriteContext;
import org.shadowbox.mmu.spi.PteWriteHandler;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;

/**
 * How emulated page-table writes reach the write-flood policy (a pte-write handler): once per
 * write through the MMU's one notifier (or, under legacy, the emulator's direct call), whoever
 * else listens; the guard when it throws; unbinding waits for it.
 */
class PteWriteDispatchTest {
    private static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200;
    private static final long GVA = 0x40_0000L;
    private static final long PT_ENTRY5 = (PT << 12) + 8 * 5;

    private final ShadowRig rig = new ShadowRig();
    private final List<String> calls = new ArrayList<>();
    /** Records each call; zaps like the fallback so the shadow stays coherent. */
    private final PteWriteHandler recorder = (ctx, gpa, value, bytes) -> {
        calls.add("vcpu" + ctx.vcpuId() + " 0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(value) + "/" + bytes);
        for (int sp = ctx.firstIndirectPage(gpa >>> 12); sp != 0; sp = ctx.nextIndirectPage(sp)) {
            ctx.prepareZap(sp);
        }
        ctx.commitZap();
    };
    PteWriteDispatchTest() {
        rig.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, ShadowRig.RWU | Pte.A | Pte.D);
        rig.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok()); // PML4, PDPT, PD and PT are shadowed
    }

    private void emulatedWrite(long value) {
        rig.vm.vcpu(0).emulatorWritePhys(PT_ENTRY5, value, 8);
    }

    @Test
    void withoutAHandlerTheFallbackZaps() {
        emulatedWrite(0);
        MmuStats st = rig.mmu.stats();
        assertEquals(1, st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK));
        assertEquals(1, st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK_ZAPPED), "the PT's shadow page");
        assertEquals(0, st.get(MmuCounter.MMU_PTE_WRITE_HANDLED));
    }

    @Test
    void eachWriteReachesTheHandlerOnceThroughTheMmusOneNotifier() {
        rig.hooks.setPteWriteHandler(recorder, "test.flood");
        emulatedWrite(0);
        List<String> heard = new ArrayList<>();
        rig.core.register(new PageTrackNotifier() { // another tracker: called too, but not a route into the MMU
            @Override
            public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
                heard.add("0x" + Long.toHexString(gpa));
            }
        }, "test.other", rig.vm.name());
        emulatedWrite(0); // the same bytes again: a second write, handled again
        emulatedWrite(1);
        assertEquals(List.of("vcpu0 0x13028=0x0/8", "vcpu0 0x13028=0x0/8", "vcpu0 0x13028=0x1/8"), calls);
        assertEquals(2, heard.size());
        MmuStats st = rig.mmu.stats();
        assertEquals(3, st.get(MmuCounter.MMU_PTE_WRITE_HANDLED));
        assertEquals(3, rig.mmu.pteWritesProcessed());
        assertEquals(rig.vm.stats().emulatedWrites(), rig.mmu.pteWritesProcessed(), "one processing per emulated write");
        assertEquals(0, st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK), "the fallback never acts while a handler is bound");
        rig.assertConsistent("after the writes");
    }

    @Test
    void unbindingBetweenTwoWritesSendsTheSecondToTheFallbackAndNeitherIsLostOrRepeated() {
        rig.hooks.setPteWriteHandler(recorder, "test.flood");
        emulatedWrite(7);
        rig.hooks.unsetPteWriteHandler(recorder);
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok()); // the PT is shadowed again
        emulatedWrite(8);
        assertEquals(1, calls.size());
        assertEquals(1, rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_FALLBACK));
        rig.hooks.setPteWriteHandler(recorder, "test.flood");
        assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok());
        emulatedWrite(9);
        assertEquals(2, calls.size());
        assertEquals(3, rig.mmu.pteWritesProcessed());
        rig.assertConsistent("after bind, unbind, bind");
    }

    @Test
    void aFailingHandlerIsBlamedTheFallbackZapsAndAfterRepeatedFailuresItIsNoLongerCalled() {
        int[] calls = new int[1];
        PteWriteHandler bad = (ctx, gpa, value, bytes) -> {
            calls[0]++;
            ctx.zapPte(ctx.firstIndirectPage(gpa >>> 12), 0); // half done, then
            throw new IllegalStateException("boom");
        };
        rig.hooks.setPteWriteHandler(bad, "test.bad");
        for (int i = 0; i < PteWrites.HandlerEntry.MAX_FAILURES + 3; i++) {
            emulatedWrite(i);
            rig.assertConsistent("after failing write " + i);
            assertTrue(rig.cpu(0).read(GVA, 8, false, rig.r).ok()); // reshadow
        }
        assertEquals(PteWrites.HandlerEntry.MAX_FAILURES, calls[0]);
        assertEquals(PteWrites.HandlerEntry.MAX_FAILURES + 3, rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_FALLBACK));
    }

    @Test
    void unbindingReturnsOnlyWhenNoCallIsRunningAndNothingIsCalledAfter() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        PteWriteHandler slow = (PteWriteContext ctx, long gpa, long value, int bytes) -> {
            events.add("call");
            inside.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            events.add("return");
        };
        rig.hooks.setPteWriteHandler(slow, "test.slow");
        Thread vcpu = new Thread(() -> emulatedWrite(3));
        vcpu.start();
        assertTrue(inside.await(5, TimeUnit.SECONDS));
        Thread unbinder = new Thread(() -> {
            rig.hooks.unsetPteWriteHandler(slow);
            events.add("unbound");
        });
        unbinder.start();
        unbinder.join(200);
        assertTrue(unbinder.isAlive(), "unbinding waits for the running call");
        release.countDown();
        unbinder.join(5000);
        vcpu.join(5000);
        assertFalse(unbinder.isAlive());
        assertEquals(List.of("call", "return", "unbound"), events);
        assertNull(rig.hooks.pteWriteHandler());
        emulatedWrite(4);
        assertEquals(3, events.size(), "not called after unbinding");
        assertEquals(1, rig.mmu.stats().get(MmuCounter.MMU_PTE_WRITE_FALLBACK), "the fallback took the next write at once");
    }

    /**
     * Under the legacy policy the emulator calls the handler itself ({@link EmulatorPteWrite}):
     * each write reaches it once, by that route, and the MMU's notifier (attached) ignores it;
     * with no handler the fallback zaps once.
     */
    @Test
    void underLegacyTheEmulatorsDirectCallIsTheOnlyRoute() {
        ShadowRig legacy = new ShadowRig("legacy", 64L << 20, 2, 64, org.shadowbox.vm.VmSpec.POLICY_LEGACY);
        legacy.map4k(PML4, new long[] {PDPT, PD, PT}, GVA, DATA, ShadowRig.RWU | Pte.A | Pte.D);
        legacy.vm.vcpu(0).set(Register.CR3, PML4 << 12);
        assertTrue(legacy.cpu(0).read(GVA, 8, false, legacy.r).ok());
        legacy.vm.vcpu(0).emulatorWritePhys(PT_ENTRY5, 0, 8);
        MmuStats st = legacy.mmu.stats();
        assertEquals(1, st.get(MmuCounter.PTE_WRITE_EMULATOR), "the emulator called kvm_mmu_pte_write");
        assertEquals(1, st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK), "no handler: the fallback zapped, once");

        legacy.hooks.setPteWriteHandler(recorder, "test.flood");
        assertTrue(legacy.cpu(0).read(GVA, 8, false, legacy.r).ok()); // the PT is shadowed again
        legacy.vm.vcpu(1).emulatorWritePhys(PT_ENTRY5, 2, 8);
        legacy.vm.vcpu(0).emulatorWritePhys(PT_ENTRY5, 3, 8);
        assertEquals(List.of("vcpu1 0x13028=0x2/8", "vcpu0 0x13028=0x3/8"), calls);
        st = legacy.mmu.stats();
        assertEquals(3, st.get(MmuCounter.PTE_WRITE_EMULATOR));
        assertEquals(2, st.get(MmuCounter.MMU_PTE_WRITE_HANDLED));
        assertEquals(3, legacy.mmu.pteWritesProcessed(), "the notifier's deliveries were not processed");
        assertEquals(1, st.get(MmuCounter.MMU_PTE_WRITE_FALLBACK), "the fallback did not act while the handler was bound");
        legacy.assertConsistent("after the legacy writes");
    }
}
