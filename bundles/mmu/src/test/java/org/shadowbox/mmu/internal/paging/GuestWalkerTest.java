package org.shadowbox.mmu.internal.paging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/** The walker's rules that the enumeration does not vary. */
class GuestWalkerTest {
    private static final long CR0 = Register.CR0_PG | Register.CR0_PE | Register.CR0_WP;
    private static final long CR4_64 = Register.CR4_PAE;
    private static final long EFER_64 = Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE;
    private static final long RWX = Pte.P | Pte.RW | Pte.US;

    private final GuestMemory mem = new HypervisorImpl().createVm(VmSpec.pc("w", 64L << 20, 1)).memory();
    private final GuestWalk w = new GuestWalk();

    private boolean walk64(long gva, int access, int maxPhyAddr) {
        return GuestWalker.walk(w, mem, maxPhyAddr, CR0, 0x10000, CR4_64, EFER_64, 0, gva, access, true);
    }

    @Test
    void aOneGigabytePageAndItsReservedBits() {
        mem.write(0x10000, 0x11000 | RWX, 8);
        mem.write(0x11000 + 8, 0x4000_0000L | RWX | Pte.PS, 8); // PDPTE 1: 1 GiB page at 1 GiB
        assertTrue(walk64(0x4123_4567L, 0, 46));
        assertEquals(0x4123_4567L, w.gpa);
        assertEquals(3, w.level);
        assertEquals(1L << 30, w.pageSize(PagingMode.LONG));
        mem.write(0x11000 + 8, 0x4000_0000L | RWX | Pte.PS | (1L << 20), 8); // bit 20: reserved in a 1G page
        assertFalse(walk64(0x4123_4567L, 0, 46));
        assertEquals(Pfec.PRESENT | Pfec.RSVD, w.errorCode);
        mem.write(0x11000 + 8, 0x4000_0000L | RWX | Pte.PS | Pte.PAT_LARGE, 8); // the PAT bit is not reserved
        assertTrue(walk64(0x4123_4567L, 0, 46));
    }

    @Test
    void psIsReservedInAPml4e() {
        mem.write(0x10000, 0x11000 | RWX | Pte.PS, 8);
        assertFalse(walk64(0x1000, Pfec.WRITE, 46));
        assertEquals(Pfec.PRESENT | Pfec.RSVD | Pfec.WRITE, w.errorCode);
        assertEquals(4, w.level);
    }

    @Test
    void maxPhyAddrDecidesWhichAddressBitsAreReserved() {
        mem.write(0x10000, 0x11000 | RWX | (1L << 47), 8);
        assertFalse(walk64(0x1000, 0, 46));
        assertEquals(Pfec.PRESENT | Pfec.RSVD, w.errorCode);
        mem.write(0x10000, 0x11000 | RWX, 8);
        mem.write(0x11000, 0x12000 | RWX, 8);
        mem.write(0x12000, 0x13000 | RWX, 8);
        mem.write(0x13008, (1L << 47) | 0x5000 | RWX, 8); // a frame above 46 bits is fine with MAXPHYADDR 52
        assertTrue(walk64(0x1000, 0, 52));
        assertEquals((1L << 47) | 0x5000, w.gpa);
    }

    @Test
    void nonCanonicalAddressesRaiseGeneralProtection() {
        assertFalse(walk64(0x0000_8000_0000_0000L, 0, 46));
        assertEquals(GuestWalk.GENERAL_PROTECTION, w.exception);
    }

    @Test
    void aPaePdpteHasNoRightsAndRefusesThem() {
        long cr4 = Register.CR4_PAE;
        mem.write(0x10000, 0x12000 | Pte.P | Pte.RW, 8);
        assertFalse(GuestWalker.walk(w, mem, 46, CR0, 0x10000, cr4, 0, 0, 0x1000, 0, true));
        assertEquals(Pfec.PRESENT | Pfec.RSVD, w.errorCode);
        assertEquals(3, w.level);
    }

    @Test
    void pse36MapsAbove4GibAndPsIsIgnoredWithoutPse() {
        long cr4 = Register.CR4_PSE;
        long pde = 0xc0_0000L | (0x3L << 13) | Pte.P | Pte.RW | Pte.PS; // 4 MiB page, physical bits 33:32 = 3
        mem.write(0x10000 + (0x00c0_0000L >>> 22) * 4, pde, 4);
        assertTrue(GuestWalker.walk(w, mem, 36, CR0, 0x10000, cr4, 0, 0, 0x00c1_2345L, 0, true));
        assertEquals(0x3_00c1_2345L, w.gpa);
        assertEquals(2, w.level);
        // Without CR4.PSE the same entry names a page table at 0xc06000 (bits 31:12, PSE-36 bits included).
        mem.write(0xc0_6000L + (0x12L * 4), 0x7000 | Pte.P, 4);
        assertTrue(GuestWalker.walk(w, mem, 36, CR0, 0x10000, 0, 0, 0, 0x00c1_2345L, 0, true));
        assertEquals(0x7345, w.gpa);
        assertEquals(1, w.level);
        // With MAXPHYADDR 36, bits 17:16 of a 4 MiB PDE are physical bits 36 and 37: reserved.
        mem.write(0x10000 + 3 * 4, 0xc0_0000L | (1L << 17) | Pte.P | Pte.PS, 4);
        assertFalse(GuestWalker.walk(w, mem, 36, CR0, 0x10000, cr4, 0, 0, 0x00c1_2345L, 0, true));
        assertEquals(Pfec.PRESENT | Pfec.RSVD, w.errorCode);
    }

    @Test
    void withoutPagingAddressesAreIdentityMapped() {
        assertTrue(GuestWalker.walk(w, mem, 46, Register.CR0_PE, 0, 0, 0, 0, 0x1234_5678L, Pfec.WRITE, true));
        assertEquals(0x1234_5678L, w.gpa);
    }

    @Test
    void aFaultLeavesAccessedBitsAlone() {
        mem.write(0x10000, 0x11000 | RWX, 8);
        mem.write(0x11000, 0x12000 | RWX, 8);
        mem.write(0x12000, 0x13000 | Pte.P | Pte.US, 8); // read-only PDE
        mem.write(0x13008, 0x5000 | RWX, 8);
        assertFalse(walk64(0x1000, Pfec.WRITE | Pfec.USER, 46));
        assertEquals(0x11000 | RWX, mem.read(0x10000, 8), "no A bit after a fault");
        assertTrue(walk64(0x1000, Pfec.USER, 46));
        assertEquals(0x11000 | RWX | Pte.A, mem.read(0x10000, 8));
        assertEquals(0x5000 | RWX | Pte.A, mem.read(0x13008, 8), "a read sets A, not D");
    }
}
