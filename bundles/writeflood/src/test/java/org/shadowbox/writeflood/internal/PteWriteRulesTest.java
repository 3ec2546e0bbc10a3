package org.shadowbox.writeflood.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The arithmetic of {@code detect_write_misaligned}, the PAE widening and
 * {@code get_written_sptes}, including a 32-bit guest's quadrants: 32-bit shadow pages are not
 * in the MMU this bundle is built against yet, so the quadrant rules are tested here, on the
 * role bits the MMU hands over ({@code cr4_pae}, level, quadrant).
 */
class PteWriteRulesTest {

    @Test
    void anAlignedOneByteWriteIsFineForBothGpteSizes() {
        assertFalse(PteWriteRules.misaligned(true, 0x1008, 1));
        assertFalse(PteWriteRules.misaligned(false, 0x1004, 1));
        assertTrue(PteWriteRules.misaligned(true, 0x1004, 1), "aligned for 4-byte gptes, not for 8-byte ones");
    }

    @Test
    void shortWritesAndEntryCrossingWritesAreMisaligned() {
        assertTrue(PteWriteRules.misaligned(true, 0x1009, 1));
        assertTrue(PteWriteRules.misaligned(true, 0x1008, 2));
        assertTrue(PteWriteRules.misaligned(false, 0x1004, 2));
        assertTrue(PteWriteRules.misaligned(true, 0x100c, 8), "crosses into the next 8-byte gpte");
        assertTrue(PteWriteRules.misaligned(false, 0x1002, 4), "crosses into the next 4-byte gpte");
        assertFalse(PteWriteRules.misaligned(true, 0x100c, 4), "the high half of an 8-byte gpte");
        assertFalse(PteWriteRules.misaligned(false, 0x1004, 4));
        assertTrue(PteWriteRules.misaligned(false, 0x1004, 8), "8 bytes over two 4-byte gptes");
    }

    @Test
    void aFourByteWriteFromAPaeOr64BitVcpuIsWidenedAndAligned() {
        assertEquals(0x1008, PteWriteRules.widenedGpa(true, 0x100c, 4));
        assertEquals(8, PteWriteRules.widenedBytes(true, 4));
        assertFalse(PteWriteRules.misaligned(true, PteWriteRules.widenedGpa(true, 0x100c, 4), 8));
        assertEquals(0x100c, PteWriteRules.widenedGpa(false, 0x100c, 4), "a 32-bit vCPU writes whole gptes");
        assertEquals(2, PteWriteRules.widenedBytes(true, 2), "only 4-byte writes are widened");
        assertTrue(PteWriteRules.gpteSized(4) && PteWriteRules.gpteSized(8));
        assertFalse(PteWriteRules.gpteSized(1) || PteWriteRules.gpteSized(2));
    }

    @Test
    void aPaeOr64BitPageHasOneWrittenSpteAtTheOffsetOverEight() {
        for (int level = 1; level <= 4; level++) {
            assertEquals(0x1f8 / 8, PteWriteRules.writtenSpteIndex(true, level, 0, 0x51f8));
            assertEquals(1, PteWriteRules.writtenSpteCount(true, level));
        }
    }

    @Test
    void a32BitPageTableIsShadowedInTwoQuadrants() {
        // 1024 4-byte gptes: gptes 0-511 in quadrant 0, 512-1023 in quadrant 1, one spte each.
        assertEquals(5, PteWriteRules.writtenSpteIndex(false, 1, 0, 0x7000 + 4 * 5));
        assertEquals(-1, PteWriteRules.writtenSpteIndex(false, 1, 1, 0x7000 + 4 * 5), "not this quadrant");
        assertEquals(3, PteWriteRules.writtenSpteIndex(false, 1, 1, 0x7000 + 4 * (512 + 3)));
        assertEquals(-1, PteWriteRules.writtenSpteIndex(false, 1, 0, 0x7000 + 4 * (512 + 3)));
        assertEquals(1, PteWriteRules.writtenSpteCount(false, 1));
    }

    @Test
    void a32BitPageDirectoryIsShadowedInFourQuadrantsTwoSptesPerPde() {
        // 1024 PDEs of 4 MiB each; a shadow PD of 512 2 MiB entries covers 256 of them.
        assertEquals(2, PteWriteRules.writtenSpteCount(false, 2));
        assertEquals(0, PteWriteRules.writtenSpteIndex(false, 2, 0, 0x9000));
        assertEquals(2 * 7, PteWriteRules.writtenSpteIndex(false, 2, 0, 0x9000 + 4 * 7));
        assertEquals(2 * 255, PteWriteRules.writtenSpteIndex(false, 2, 0, 0x9000 + 4 * 255));
        for (int q = 0; q < 4; q++) {
            int pde = 256 * q + 10;
            for (int sp = 0; sp < 4; sp++) {
                int expected = sp == q ? 20 : -1;
                assertEquals(expected, PteWriteRules.writtenSpteIndex(false, 2, sp, 0x9000 + 4L * pde),
                        "PDE " + pde + " against the page of quadrant " + sp);
            }
        }
        // A byte write into the middle of a PDE names the same two sptes ("kill rounding error").
        assertEquals(20, PteWriteRules.writtenSpteIndex(false, 2, 1, 0x9000 + 4L * 266 + 3));
    }
}
