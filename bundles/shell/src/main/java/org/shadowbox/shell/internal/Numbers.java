package org.shadowbox.shell.internal;

import org.shadowbox.vm.VmException;

/**
 * Parses the numbers a user types: {@code 0x} hex or decimal, unsigned. Every failure is a
 * {@link VmException} whose one-line message names the parameter, repeats what was typed and
 * says what is accepted.
 */
final class Numbers {

    static final String ACCEPTED = "accepted 0x hex (0x1000) or decimal (4096)";

    private Numbers() {
    }

    /**
     * An unsigned 64-bit number: {@code 0x} followed by 1 to 16 hex digits, or a decimal up to
     * 18446744073709551615. The result is the raw 64 bits (values above
     * {@link Long#MAX_VALUE} come back negative).
     */
    static long u64(String param, String text) {
        String s = present(param, text);
        try {
            if (s.length() > 2 && (s.startsWith("0x") || s.startsWith("0X"))) {
                String digits = s.substring(2);
                if (digits.length() > 16 || !isHex(digits)) {
                    throw bad(param, s);
                }
                return Long.parseUnsignedLong(digits, 16);
            }
            if (!isDecimal(s)) {
                throw bad(param, s);
            }
            return Long.parseUnsignedLong(s, 10);
        } catch (NumberFormatException e) {
            throw new VmException("bad " + param + " '" + s + "': too large; accepted 0 to 0xffffffffffffffff");
        }
    }

    /** A guest address or frame number: unsigned, at most {@link Long#MAX_VALUE}. */
    static long address(String param, String text) {
        long v = u64(param, text);
        if (v < 0) {
            throw new VmException("bad " + param + " '" + text.trim() + "': too large; accepted 0 to 0x7fffffffffffffff");
        }
        return v;
    }

    /** An integer in {@code [min, max]}, written in hex or decimal. */
    static int integer(String param, String text, int min, int max) {
        long v = u64(param, text);
        if (v < min || v > max) {
            throw new VmException("bad " + param + " '" + text.trim() + "': accepted " + min + " to " + max);
        }
        return (int) v;
    }

    /** A memory access width: 1, 2, 4 or 8 bytes. */
    static int accessSize(String param, String text) {
        String s = present(param, text);
        switch (s) {
            case "1": return 1;
            case "2": return 2;
            case "4": return 4;
            case "8": return 8;
            default: throw new VmException("bad " + param + " '" + s + "': accepted 1, 2, 4 or 8 (bytes)");
        }
    }

    /** A value that must fit in {@code size} bytes (unsigned). */
    static long value(String param, String text, int size) {
        long v = u64(param, text);
        if (size < 8 && (v >>> (size * 8)) != 0) {
            long max = (1L << (size * 8)) - 1;
            throw new VmException("bad " + param + " '" + text.trim() + "': does not fit in " + size
                    + (size == 1 ? " byte" : " bytes") + "; accepted 0x0 to 0x" + Long.toHexString(max)
                    + " (or pass a larger --size)");
        }
        return v;
    }

    /** The trimmed text, or an error if the argument is missing. */
    static String present(String param, String text) {
        if (text == null || text.isBlank()) {
            throw new VmException("missing " + param + ": " + ACCEPTED);
        }
        return text.trim();
    }

    private static VmException bad(String param, String s) {
        return new VmException("bad " + param + " '" + s + "': " + ACCEPTED);
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return !s.isEmpty();
    }

    private static boolean isDecimal(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return !s.isEmpty();
    }
}
