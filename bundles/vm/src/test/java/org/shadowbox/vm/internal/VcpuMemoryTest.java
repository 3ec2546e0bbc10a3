package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.MemslotRandomTest.ModelSlot;
import org.shadowbox.vm.spi.Platform;
import org.shadowbox.vm.spi.PlatformVcpu;

/**
 * A vCPU's own memslot and guest-memory caches ({@link VcpuMemory}: {@code last_used_slot} and
 * the host pages read last) never outlive the memslots generation they were filled in: after a
 * slot create, move or delete, made by whichever thread, a vCPU finds the new slot, the hole or
 * the moved memory, never what its caches held. Seeded random sequences against the plain model
 * of {@link MemslotRandomTest}, both vCPUs reading (and so caching) on every step; the seed is in
 * every failure message, replay one with -Dshadowbox.seed=N.
 */
class VcpuMemoryTest {
    private static final long SPACE_PAGES = 40; // few gfns, so that the vCPUs' 16-page caches hold most of them
    private static final int STEPS = 2_000;

    @Test
    void aMovedSlotIsFoundAtItsNewPlaceAndNotAtItsOldOne() {
        Vm vm = new HypervisorImpl().createVm(new VmSpec("m", 1, List.of(new SlotSpec(3, 0x10, 4, 0)), 33));
        PlatformVcpu cpu = Platform.vcpu(vm.vcpu(0));
        vm.memory().write(0x11L << 12, 0x1234_5678_9abc_def0L, 8);
        assertEquals(0x1234_5678_9abc_def0L, cpu.memory().read(0x11L << 12, 8));
        Memslot before = cpu.gfnToMemslot(0x11);
        assertSame(vm.slot(3), before);

        Memslot moved = vm.moveSlot(3, 0x20);
        assertEquals(-1L, cpu.memory().read(0x11L << 12, 8), "the old place is a hole now: all ones");
        assertNull(cpu.gfnToMemslot(0x11), "the slot the vCPU used last is gone from there");
        assertSame(moved, cpu.gfnToMemslot(0x21));
        assertEquals(0x1234_5678_9abc_def0L, cpu.memory().read(0x21L << 12, 8), "the memory moved with the slot");

        vm.deleteSlot(3);
        assertNull(cpu.gfnToMemslot(0x21));
        assertEquals(-1L, cpu.memory().read(0x21L << 12, 8), "a deleted slot's page is not read");
        vm.createSlot(new SlotSpec(3, 0x20, 4, 0));
        assertEquals(0L, cpu.memory().read(0x21L << 12, 8), "a new slot's memory is zero, not the old one's");
    }

    @Test
    void readsCountHolesAndGoAcrossPagesAsTheVmsDo() {
        Vm vm = new HypervisorImpl().createVm(new VmSpec("h", 1, List.of(new SlotSpec(0, 0, 3, 0)), 33));
        GuestMemory mem = Platform.vcpu(vm.vcpu(0)).memory();
        vm.memory().write(0xffe, 0xaabb_ccddL, 4); // across the page boundary
        assertEquals(0xaabb_ccddL, mem.read(0xffe, 4));
        long holes = vm.memory().mmioReads();
        assertEquals(0xffffL, mem.read(5L << 12, 2));
        assertEquals(holes + 1, vm.memory().mmioReads(), "a read of a hole counts as the VM's does");
        assertEquals(0L, mem.read(2L << 12, 8), "a page never written reads zero");
        mem.write(2L << 12, 7, 1);
        assertEquals(7L, vm.memory().read(2L << 12, 1), "writes are the VM's");
        assertEquals(7L, mem.read(2L << 12, 1), "and a page made resident since is read");
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("org.shadowbox.vm.internal.MemslotRandomTest#seeds")
    void noSlotOrPageOfAnOlderGenerationIsEverUsed(long seed) {
        Random rnd = new Random(seed);
        Vm vm = new HypervisorImpl().createVm(new VmSpec("r", 2, List.of(), 33));
        PlatformVcpu[] cpus = {Platform.vcpu(vm.vcpu(0)), Platform.vcpu(vm.vcpu(1))};
        TreeMap<Integer, ModelSlot> model = new TreeMap<>();
        for (int step = 0; step < STEPS; step++) {
            String ctx = "seed " + seed + " step " + step + ": ";
            int op = rnd.nextInt(8);
            int id = rnd.nextInt(4);
            if (op == 0) {
                long base = rnd.nextInt((int) SPACE_PAGES);
                long npages = 1 + rnd.nextInt(12);
                boolean ok = !model.containsKey(id) && MemslotRandomTest.overlap(model, base, npages, -1) == null;
                assertEquals(ok, MemslotRandomTest.attempt(() -> vm.createSlot(new SlotSpec(id, base, npages, 0))),
                        ctx + "create " + id);
                if (ok) {
                    model.put(id, new ModelSlot(base, npages, 0));
                }
            } else if (op == 1) {
                assertEquals(model.remove(id) != null, MemslotRandomTest.attempt(() -> vm.deleteSlot(id)), ctx + "delete " + id);
            } else if (op == 2 || op == 3) {
                long base = rnd.nextInt((int) SPACE_PAGES);
                ModelSlot m = model.get(id);
                boolean ok = m != null && MemslotRandomTest.overlap(model, base, m.npages, id) == null;
                assertEquals(ok, MemslotRandomTest.attempt(() -> vm.moveSlot(id, base)), ctx + "move " + id);
                if (ok) {
                    m.base = base;
                }
            } else {
                long gpa = (long) (rnd.nextDouble() * SPACE_PAGES * 4096);
                int size = 1 << rnd.nextInt(4);
                long value = rnd.nextLong();
                if (rnd.nextBoolean()) {
                    vm.memory().write(gpa, value, size);
                    MemslotRandomTest.modelWrite(model, gpa, value, size, false);
                } else {
                    vm.vcpu(rnd.nextInt(2)).emulatorWritePhys(gpa, value, size);
                    MemslotRandomTest.modelWrite(model, gpa, value, size, true);
                }
            }
            // Both vCPUs look up and read a few places every step: their caches stay full of this
            // generation's slots and pages when the next change comes.
            for (PlatformVcpu cpu : cpus) {
                for (int k = 0; k < 6; k++) {
                    long gfn = rnd.nextInt((int) SPACE_PAGES);
                    ModelSlot m = MemslotRandomTest.slotOf(model, gfn);
                    Memslot s = cpu.gfnToMemslot(gfn);
                    if (m == null) {
                        assertNull(s, ctx + "vCPU " + cpu.id() + " finds a slot at hole 0x" + Long.toHexString(gfn));
                    } else {
                        assertEquals(m.base, s.baseGfn(), ctx + "vCPU " + cpu.id() + " slot of gfn 0x" + Long.toHexString(gfn));
                        assertSame(vm.slotForGfn(gfn), s, ctx + "vCPU " + cpu.id() + " slot of gfn 0x" + Long.toHexString(gfn));
                    }
                    long gpa = (gfn << 12) + rnd.nextInt(4096);
                    int size = 1 << rnd.nextInt(4);
                    assertEquals(MemslotRandomTest.modelRead(model, gpa, size), cpu.memory().read(gpa, size),
                            ctx + "vCPU " + cpu.id() + " read 0x" + Long.toHexString(gpa) + " size " + size);
                }
            }
        }
    }
}
