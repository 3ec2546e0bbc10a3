package org.shadowbox.gpu.internal;

import org.shadowbox.vm.VmException;

/** Number arguments of the gpu commands: {@code 0x} hex or decimal, not negative. */
final class Numbers {
    private Numbers() {
    }

    /** @throws VmException one line saying what was wrong and what is accepted */
    static long parse(String text, String what) {
        String s = text == null ? "" : text.trim();
        try {
            long v = s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new VmException("bad " + what + " '" + text + "': accepted a non-negative number, 0x hex or decimal (e.g. 0x1234)");
    }
}
