package org.shadowbox.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * The bytecode length of each method of a compiled class, read from its class file on the test
 * class path (JVMS 4: the constant pool, then each method's {@code Code} attribute). For the tests
 * that hold a hot path's JIT shape by construction ({@code TlbHitShapeTest},
 * {@code DispatchShapeTest}): HotSpot decides whether to inline by these lengths (MaxInlineSize,
 * FreqInlineSize), so a test can check the lengths where a benchmark could only sample the outcome.
 * Shared through this module's test-jar.
 */
public final class ClassFileCode {
    private ClassFileCode() {
    }

    /**
     * Each method's {@code Code} length by name and descriptor ({@code name(desc)ret}) of the class
     * {@code internalName} ({@code org/shadowbox/...}); abstract and native methods have none.
     *
     * @throws IOException if the class is not on the class path or its file is not one
     */
    public static Map<String, Integer> codeLengths(String internalName) throws IOException {
        try (InputStream raw = ClassFileCode.class.getClassLoader().getResourceAsStream(internalName + ".class")) {
            if (raw == null) {
                throw new IOException(internalName + ".class is not on the class path");
            }
            DataInputStream in = new DataInputStream(raw);
            if (in.readInt() != 0xCAFEBABE) {
                throw new IOException(internalName + ".class is not a class file (no 0xCAFEBABE)");
            }
            in.readUnsignedShort(); // minor
            in.readUnsignedShort(); // major
            String[] utf8 = constantPoolUtf8(in);
            in.readUnsignedShort(); // access
            in.readUnsignedShort(); // this
            in.readUnsignedShort(); // super
            in.skipNBytes(2L * in.readUnsignedShort()); // interfaces
            int fields = in.readUnsignedShort();
            for (int f = 0; f < fields; f++) {
                in.skipNBytes(6); // access, name, descriptor
                skipAttributes(in);
            }
            Map<String, Integer> out = new HashMap<>();
            int methods = in.readUnsignedShort();
            for (int m = 0; m < methods; m++) {
                in.readUnsignedShort(); // access
                String name = utf8[in.readUnsignedShort()] + utf8[in.readUnsignedShort()];
                int attrs = in.readUnsignedShort();
                for (int a = 0; a < attrs; a++) {
                    String an = utf8[in.readUnsignedShort()];
                    long len = in.readInt() & 0xFFFFFFFFL;
                    if (an.equals("Code")) {
                        in.readUnsignedShort(); // max_stack
                        in.readUnsignedShort(); // max_locals
                        out.put(name, in.readInt());
                        in.skipNBytes(len - 8);
                    } else {
                        in.skipNBytes(len);
                    }
                }
            }
            return out;
        }
    }

    /** The longest {@code Code} of the methods named {@code name} (any descriptor), or -1 if none. */
    public static int longest(Map<String, Integer> lengths, String name) {
        int n = -1;
        for (Map.Entry<String, Integer> e : lengths.entrySet()) {
            if (e.getKey().startsWith(name + "(")) {
                n = Math.max(n, e.getValue());
            }
        }
        return n;
    }

    /**
     * Checks each method of {@code limits} (keyed {@code "org/shadowbox/... method"}) exists and
     * has at most its limit of bytecode (the longest of its overloads); a failure names the method,
     * its length and the limit, then {@code advice}.
     */
    public static void assertEachAtMost(Map<String, Integer> limits, String advice) throws IOException {
        for (Map.Entry<String, Integer> e : limits.entrySet()) {
            String[] cm = e.getKey().split(" ");
            int n = longest(codeLengths(cm[0]), cm[1]);
            if (n <= 0) {
                throw new AssertionError(e.getKey() + " is missing");
            }
            if (n > e.getValue()) {
                throw new AssertionError(e.getKey() + " has " + n + " bytes of bytecode, over " + e.getValue() + ": " + advice);
            }
        }
    }

    /** The constant pool's UTF-8 entries by index (null elsewhere). */
    private static String[] constantPoolUtf8(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        String[] utf8 = new String[n];
        for (int i = 1; i < n; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++; // a long or double takes two slots
                }
                case 7, 8, 16, 19, 20 -> in.readUnsignedShort();
                case 9, 10, 11, 12, 17, 18 -> in.readInt();
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("constant pool tag " + tag + " at " + i);
            }
        }
        return utf8;
    }

    private static void skipAttributes(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        for (int a = 0; a < n; a++) {
            in.readUnsignedShort();
            in.skipNBytes(in.readInt() & 0xFFFFFFFFL);
        }
    }
}
