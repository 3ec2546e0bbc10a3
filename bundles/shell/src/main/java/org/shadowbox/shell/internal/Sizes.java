package org.shadowbox.shell.internal;

import java.math.BigDecimal;
import java.math.RoundingMode;

import org.shadowbox.vm.VmException;

/** Byte sizes: parsing {@code 4096}, {@code 0x1000}, {@code 64M}, {@code 1G}, {@code 1T}; printing {@code 1 GiB}. */
final class Sizes {

    static final String ACCEPTED = "accepted bytes as 4096 or 0x1000, or with a K, M, G or T suffix (64M, 1G, 1T)";

    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private Sizes() {
    }

    /**
     * A size in bytes: a hex or decimal number, optionally followed by one of {@code K M G T}
     * (any case; binary: K = 1024). Refused: garbage, an unknown suffix, a size that overflows
     * 63 bits.
     */
    static long parse(String param, String text) {
        if (text == null || text.isBlank()) {
            throw new VmException("missing " + param + ": " + ACCEPTED);
        }
        String t = text.trim();
        String s = t;
        int shift = 0;
        char last = Character.toUpperCase(t.charAt(t.length() - 1));
        boolean hex = t.length() > 2 && (t.startsWith("0x") || t.startsWith("0X"));
        if (last == 'K' || last == 'M' || last == 'G' || last == 'T') {
            shift = last == 'K' ? 10 : last == 'M' ? 20 : last == 'G' ? 30 : 40;
            s = t.substring(0, t.length() - 1);
        } else if (!hex && !(last >= '0' && last <= '9')) {
            throw new VmException("bad " + param + " '" + t + "': unknown suffix '" + t.charAt(t.length() - 1)
                    + "'; " + ACCEPTED);
        }
        long n;
        try {
            n = Numbers.u64(param, s);
        } catch (VmException e) {
            throw new VmException("bad " + param + " '" + t + "': " + ACCEPTED);
        }
        if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
            throw new VmException("bad " + param + " '" + t + "': too large; accepted less than 8 EiB (8388608T)");
        }
        return n << shift;
    }

    /**
     * {@code bytes} in the largest binary unit that leaves at least 1: exact as
     * {@code 640 KiB}, otherwise with one decimal rounded down (never more than there is),
     * {@code 1023.6 MiB}.
     */
    static String human(long bytes) {
        if (bytes < 0) {
            return Long.toUnsignedString(bytes) + " B";
        }
        int unit = 0;
        while (unit + 1 < UNITS.length && bytes >= (1L << (10 * (unit + 1)))) {
            unit++;
        }
        long scale = 1L << (10 * unit);
        if (bytes % scale == 0) {
            return (bytes / scale) + " " + UNITS[unit];
        }
        BigDecimal v = BigDecimal.valueOf(bytes).divide(BigDecimal.valueOf(scale), 1, RoundingMode.DOWN);
        return v.toPlainString() + " " + UNITS[unit];
    }
}
