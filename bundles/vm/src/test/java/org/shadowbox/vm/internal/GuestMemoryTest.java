package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

class GuestMemoryTest {
    private final HypervisorImpl hv = new HypervisorImpl();
    private final Vm vm = hv.createVm(VmSpec.pc("t", 64L << 20, 1));
    private final GuestMemory mem = vm.memory();

    @Test
    void valuesAreLittleEndianAtEverySizeAndAlignment() {
        mem.write(0x100_000, 0x1122_3344_5566_7788L, 8);
        assertEquals(0x88, mem.read(0x100_000, 1));
        assertEquals(0x7788, mem.read(0x100_000, 2));
        assertEquals(0x5566_7788L, mem.read(0x100_000, 4));
        assertEquals(0x1122_3344L, mem.read(0x100_004, 4));
        assertEquals(0x1122_3344_5566_7788L, mem.read(0x100_000, 8));
        mem.write(0x100_013, 0xdead_beefL, 4); // unaligned
        assertEquals(0xdead_beefL, mem.read(0x100_013, 4));
        assertEquals(0xefL, mem.read(0x100_013, 1));
        assertEquals(0xdeL, mem.read(0x100_016, 1));
    }

    @Test
    void accessesThatCrossAPageSplitByteByByte() {
        long gpa = 0x200_ffd; // 3 bytes in one page, 5 in the next
        mem.write(gpa, 0x0102_0304_0506_0708L, 8);
        assertEquals(0x0102_0304_0506_0708L, mem.read(gpa, 8));
        assertEquals(0x08, mem.read(0x200_ffd, 1));
        assertEquals(0x05, mem.read(0x201_000, 1));
        assertEquals(0x01, mem.read(0x201_004, 1));
    }

    @Test
    void mmioHolesReadAllOnesAndDropWrites() {
        long hole = 0xa0_000; // the legacy VGA hole between slot 0 and slot 1
        assertEquals(0xffL, mem.read(hole, 1));
        assertEquals(0xffffL, mem.read(hole, 2));
        assertEquals(0xffff_ffffL, mem.read(hole, 4));
        assertEquals(-1L, mem.read(hole, 8));
        assertEquals(4, mem.mmioReads());
        mem.write(hole, 0x1234, 4);
        assertEquals(1, mem.mmioWritesDropped());
        assertEquals(0xffff_ffffL, mem.read(hole, 4));
    }

    @Test
    void aReadStraddlingRamAndAHoleGetsOnesForTheHoleBytes() {
        long lastRamByte = 0x9f_fff; // last byte of slot 0
        mem.write(lastRamByte, 0x42, 1);
        assertEquals(0xffff_ff42L, mem.read(lastRamByte, 4));
        mem.write(lastRamByte, 0x1111_1199L, 4); // the RAM byte lands, the rest is dropped
        assertEquals(0x99, mem.read(lastRamByte, 1));
        assertEquals(1, mem.mmioWritesDropped());
    }

    @Test
    void bulkCopiesCrossPagesAndHoles() {
        byte[] src = new byte[10_000];
        for (int i = 0; i < src.length; i++) {
            src[i] = (byte) (i * 7);
        }
        mem.write(0x300_123, src, 0, src.length);
        byte[] back = new byte[src.length];
        mem.read(0x300_123, back, 0, back.length);
        assertArrayEquals(src, back);
        byte[] holeBytes = new byte[16];
        mem.read(0xa0_000, holeBytes, 0, 16);
        for (byte b : holeBytes) {
            assertEquals((byte) 0xff, b);
        }
    }

    @Test
    void memoryIsSparseATerabyteGuestCostsWhatItTouches() {
        Vm big = hv.createVm(new VmSpec("big", 1,
                List.of(new SlotSpec(0, 0, (1L << 28) - 1, 0)), VmSpec.DEFAULT_MAXPHYADDR)); // ~1 TiB
        GuestMemory m = big.memory();
        assertEquals(0, m.residentPages());
        assertEquals(0, m.read(0xff_ffff_0000L, 8), "untouched memory reads as zero");
        assertEquals(0, m.residentPages(), "reading untouched memory allocates nothing");
        m.write(0xff_ffff_0000L, 7, 8);
        m.write(0x1000, 9, 8);
        m.write(0x1008, 9, 8);
        assertEquals(2, m.residentPages());
        assertEquals(7, m.read(0xff_ffff_0000L, 8));
        assertNull(org.shadowbox.vm.spi.Platform.slot(big.slotForGfn(0)).hostPageIfPresent(5));
    }

    @Test
    void badSizesAreRefusedInOneLine() {
        VmException e = assertThrows(VmException.class, () -> mem.read(0, 3));
        assertEquals("bad access size 3: accepted 1, 2, 4 or 8 bytes", e.getMessage());
        assertThrows(VmException.class, () -> mem.write(0, 0, 16));
    }
}
