package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.VmException;

class NumbersTest {

    @Test
    void acceptsHexAndDecimal() {
        assertEquals(0x1234, Numbers.u64("GFN", "0x1234"));
        assertEquals(0x1234, Numbers.u64("GFN", "0X1234"));
        assertEquals(0xabcdef, Numbers.u64("GFN", "0xABCdef"));
        assertEquals(4096, Numbers.u64("GFN", "4096"));
        assertEquals(0, Numbers.u64("GFN", "0"));
        assertEquals(7, Numbers.u64("GFN", " 7 "));
    }

    @Test
    void u64CoversTheFullUnsignedRange() {
        assertEquals(-1L, Numbers.u64("VALUE", "0xffffffffffffffff"));
        assertEquals(-1L, Numbers.u64("VALUE", "18446744073709551615"));
        assertOneLine(assertThrows(VmException.class, () -> Numbers.u64("VALUE", "18446744073709551616")),
                "VALUE", "too large");
        assertOneLine(assertThrows(VmException.class, () -> Numbers.u64("VALUE", "0x1ffffffffffffffff")),
                "VALUE", "0x hex");
    }

    @Test
    void garbageNamesTheParameterAndTheAcceptedForms() {
        for (String bad : new String[] {"xyz", "0x", "0xg1", "-1", "1.5", "1e3", "12ab", "0b101", "\u0663"}) {
            VmException e = assertThrows(VmException.class, () -> Numbers.u64("GPA", bad), bad);
            assertOneLine(e, "GPA", "'" + bad.trim() + "'");
            assertTrue(e.getMessage().contains(Numbers.ACCEPTED), e.getMessage());
        }
        assertOneLine(assertThrows(VmException.class, () -> Numbers.u64("GPA", null)), "missing GPA", "0x hex");
        assertOneLine(assertThrows(VmException.class, () -> Numbers.u64("GPA", " ")), "missing GPA", "decimal");
    }

    @Test
    void addressesStopAtTheSignedMaximum() {
        assertEquals(Long.MAX_VALUE, Numbers.address("GPA", "0x7fffffffffffffff"));
        assertOneLine(assertThrows(VmException.class, () -> Numbers.address("GPA", "0x8000000000000000")),
                "GPA", "0x7fffffffffffffff");
    }

    @Test
    void integersAreRangeChecked() {
        assertEquals(511, Numbers.integer("SLOT_ID", "0x1ff", 0, 511));
        assertEquals(3, Numbers.integer("--vcpus", "3", 1, 64));
        assertOneLine(assertThrows(VmException.class, () -> Numbers.integer("--vcpus", "0", 1, 64)),
                "--vcpus", "accepted 1 to 64");
        assertOneLine(assertThrows(VmException.class, () -> Numbers.integer("SLOT_ID", "512", 0, 511)),
                "SLOT_ID", "accepted 0 to 511");
        assertOneLine(assertThrows(VmException.class, () -> Numbers.integer("SLOT_ID", "0xffffffffffffffff", 0, 511)),
                "SLOT_ID", "accepted 0 to 511");
    }

    @Test
    void accessSizesAreOneTwoFourOrEight() {
        assertEquals(1, Numbers.accessSize("--size", "1"));
        assertEquals(2, Numbers.accessSize("--size", "2"));
        assertEquals(4, Numbers.accessSize("--size", "4"));
        assertEquals(8, Numbers.accessSize("--size", "8"));
        for (String bad : new String[] {"3", "16", "0", "0x4", "four"}) {
            assertOneLine(assertThrows(VmException.class, () -> Numbers.accessSize("--size", bad)),
                    "--size", "accepted 1, 2, 4 or 8");
        }
    }

    @Test
    void valuesMustFitTheAccessWidth() {
        assertEquals(0xff, Numbers.value("VALUE", "0xff", 1));
        assertEquals(0xffff, Numbers.value("VALUE", "65535", 2));
        assertEquals(0xffffffffL, Numbers.value("VALUE", "0xffffffff", 4));
        assertEquals(-1L, Numbers.value("VALUE", "0xffffffffffffffff", 8));
        assertOneLine(assertThrows(VmException.class, () -> Numbers.value("VALUE", "0x100", 1)),
                "VALUE", "does not fit in 1 byte; accepted 0x0 to 0xff");
        assertOneLine(assertThrows(VmException.class, () -> Numbers.value("OLD", "0x100000000", 4)),
                "OLD", "accepted 0x0 to 0xffffffff");
    }

    static void assertOneLine(Exception e, String... fragments) {
        String m = e.getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), "not one line: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "'" + m + "' lacks '" + f + "'");
        }
    }
}
