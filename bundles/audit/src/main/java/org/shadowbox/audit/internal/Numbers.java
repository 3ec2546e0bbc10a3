package org.shadowbox.audit.internal;

import org.shadowbox.vm.VmException;

/** Number parsing and printing for the audit's commands: {@code 0x} hex or decimal in, hex out. */
final class Numbers {

    private Numbers() {
    }

    /**
     * Parses a guest frame number: {@code 0x} hex (any case) or decimal, not negative.
     *
     * @throws VmException one line saying what was wrong and what is accepted
     */
    static long parseGfn(String text) {
        String s = text == null ? "" : text.trim();
        try {
            long v;
            if (s.startsWith("0x") || s.startsWith("0X")) {
                v = Long.parseLong(s.substring(2), 16);
            } else {
                v = Long.parseLong(s);
            }
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below, with what is accepted
        }
        throw new VmException("bad GFN '" + text + "': accepted a non-negative number, 0x hex or decimal (e.g. 0x1234)");
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
