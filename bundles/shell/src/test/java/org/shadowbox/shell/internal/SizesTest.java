package org.shadowbox.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.shadowbox.shell.internal.NumbersTest.assertOneLine;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.VmException;

class SizesTest {

    @Test
    void parsesBytesAndBinarySuffixes() {
        assertEquals(4096, Sizes.parse("--memory", "4096"));
        assertEquals(4096, Sizes.parse("--memory", "0x1000"));
        assertEquals(4L << 10, Sizes.parse("--memory", "4k"));
        assertEquals(4L << 10, Sizes.parse("--memory", "4K"));
        assertEquals(64L << 20, Sizes.parse("--memory", "64M"));
        assertEquals(64L << 20, Sizes.parse("--memory", "64m"));
        assertEquals(1L << 30, Sizes.parse("--memory", "1G"));
        assertEquals(1L << 40, Sizes.parse("--memory", "1T"));
        assertEquals(16L << 20, Sizes.parse("--memory", "0x10M"));
        assertEquals(0xbL, Sizes.parse("--memory", "0xB"));
    }

    @Test
    void refusesGarbageUnknownSuffixesAndOverflow() {
        assertOneLine(assertThrows(VmException.class, () -> Sizes.parse("--memory", "1Q")),
                "--memory", "unknown suffix 'Q'", Sizes.ACCEPTED);
        assertOneLine(assertThrows(VmException.class, () -> Sizes.parse("--memory", "1GB")),
                "--memory", "unknown suffix 'B'");
        assertOneLine(assertThrows(VmException.class, () -> Sizes.parse("--memory", "G")),
                "--memory", Sizes.ACCEPTED);
        assertOneLine(assertThrows(VmException.class, () -> Sizes.parse("--memory", "abcM")),
                "--memory 'abcM'", Sizes.ACCEPTED);
        assertOneLine(assertThrows(VmException.class, () -> Sizes.parse("--memory", "8388608T")),
                "--memory", "too large");
        assertOneLine(assertThrows(VmException.class, () -> Sizes.parse("--memory", "")),
                "missing --memory");
        assertEquals(8388607L << 40, Sizes.parse("--memory", "8388607T"));
    }

    @Test
    void printsTheLargestBinaryUnit() {
        assertEquals("0 B", Sizes.human(0));
        assertEquals("1023 B", Sizes.human(1023));
        assertEquals("640 KiB", Sizes.human(0xa0L << 12));
        assertEquals("1 GiB", Sizes.human(1L << 30));
        assertEquals("1023 MiB", Sizes.human(0x3ff00L << 12));
        assertEquals("1023.6 MiB", Sizes.human(0x3ffa0L << 12));
        assertEquals("1.5 GiB", Sizes.human(3L << 29));
        assertEquals("1 TiB", Sizes.human(1L << 40));
        assertEquals("1023.9 GiB", Sizes.human((1L << 40) - 1), "rounded down, never up to the next unit");
        assertEquals("9223372036854775808 B", Sizes.human(Long.MIN_VALUE), "beyond 63 bits: plain unsigned bytes");
    }
}
