package org.shadowbox.mmu.internal.shadow;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Vcpu;

/**
 * The byte work every access path shares once a piece of an access has been translated:
 * little-endian loads and stores of 1 to 8 bytes within one host page, reads of guest
 * memory by gpa, and the emulator's write in pieces. The shadow ({@link GuestAccess}) and the
 * TDP access paths both use it, so the two cannot drift apart.
 */
public final class GuestBytes {
    static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private GuestBytes() {
    }

    /** {@code len} (1 to 8) bytes at {@code off} of a host page, zero-extended. */
    public static long load(byte[] page, int off, int len) {
        switch (len) {
            case 1: return page[off] & 0xffL;
            case 2: return (short) SHORT.get(page, off) & 0xffffL;
            case 4: return (int) INT.get(page, off) & 0xffff_ffffL;
            case 8: return (long) LONG.get(page, off);
            default:
                long x = 0;
                for (int i = 0; i < len; i++) {
                    x |= (page[off + i] & 0xffL) << (8 * i);
                }
                return x;
        }
    }

    /** Stores the low {@code len} (1 to 8) bytes of {@code value} at {@code off} of a host page. */
    public static void store(byte[] page, int off, long value, int len) {
        switch (len) {
            case 1: page[off] = (byte) value; break;
            case 2: SHORT.set(page, off, (short) value); break;
            case 4: INT.set(page, off, (int) value); break;
            case 8: LONG.set(page, off, value); break;
            default:
                for (int i = 0; i < len; i++) {
                    page[off + i] = (byte) (value >>> (8 * i));
                }
        }
    }

    /** {@code len} (1 to 8) bytes of guest memory at {@code gpa}, as the emulator reads them. */
    public static long readGpa(GuestMemory memory, long gpa, int len) {
        if (Integer.bitCount(len) == 1) {
            return memory.read(gpa, len);
        }
        long x = 0;
        for (int i = 0; i < len; i++) {
            x |= memory.read(gpa + i, 1) << (8 * i);
        }
        return x;
    }

    /**
     * The emulator's write ({@link Vcpu#emulatorWritePhys}) of {@code len} bytes in pieces of
     * 8, 4, 2 and 1 bytes.
     *
     * @return the number of pieces written
     */
    public static int emulateWrite(Vcpu vcpu, long gpa, long value, int len) {
        int pieces = 0;
        while (len > 0) {
            int c = len >= 8 ? 8 : len >= 4 ? 4 : len >= 2 ? 2 : 1;
            vcpu.emulatorWritePhys(gpa, c == 8 ? value : value & ((1L << (8 * c)) - 1), c);
            gpa += c;
            value = c == 8 ? 0 : value >>> (8 * c);
            len -= c;
            pieces++;
        }
        return pieces;
    }
}
