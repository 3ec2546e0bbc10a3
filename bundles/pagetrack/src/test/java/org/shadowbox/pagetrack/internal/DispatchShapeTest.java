package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The call boundary of an emulated write's dispatch, by construction (docs/benchmarks.md, "The
 * dispatch's call boundary"). HotSpot's C2 never inlines a method of more than
 * {@code FreqInlineSize} (325) bytes of bytecode, inlines a smaller one at a hot call site unless
 * its own compiled code is already over {@code InlineSmallCode} (2,500 bytes), and never inlines
 * one whose signature names a class not loaded yet. Before this shape the emulated write's links
 * were compiled in a race and each JVM cut the chain elsewhere (three shapes in six JMH forks of
 * {@code NotifierDispatchBench}). So: {@code kvm_page_track_write}'s read section and loop are one
 * method over 325 bytes, the links above it stay small, and the direct call's slot entry names no
 * {@link Courier} (a VM without isolated notifiers may never load it). Read from the compiled
 * class files; fails when an edit moves the boundary.
 */
class DispatchShapeTest {
    /** HotSpot's FreqInlineSize on x86-64 (JDK 17 to 25): the most bytecode C2 inlines at a hot call site. */
    private static final int FREQ_INLINE_SIZE = 325;

    @Test
    void theReadSectionAndItsLoopAreOneMethodTheJitNeverInlines() throws IOException {
        int n = longest(codeLengths("org/shadowbox/pagetrack/internal/NotifierGuard"), "trackWriteAll");
        assertTrue(n > FREQ_INLINE_SIZE, "NotifierGuard.trackWriteAll has " + n + " bytes of bytecode; it must be over "
                + FREQ_INLINE_SIZE + " so that no caller inlines the dispatch and the write above it stays small");
    }

    @Test
    void theWriteAboveTheDispatchIsSmallAtEveryLink() throws IOException {
        Map<String, Integer> limits = new HashMap<>();
        // kvm_page_track_write's entry: the VM's state, the empty test, one call
        limits.put("org/shadowbox/pagetrack/internal/PageTrackCore emulatedWrite", 80);
        // emulator_write_phys: the one-page case and one call; the split write is its own method
        limits.put("org/shadowbox/vm/internal/VcpuImpl emulatorWritePhys", 64);
        for (Map.Entry<String, Integer> e : limits.entrySet()) {
            String[] cm = e.getKey().split(" ");
            int n = longest(codeLengths(cm[0]), cm[1]);
            assertTrue(n > 0, e.getKey() + " is missing");
            assertTrue(n <= e.getValue(), e.getKey() + " has " + n + " bytes of bytecode, over " + e.getValue()
                    + ": keep the rare cases and the dispatch out of it");
        }
    }

    @Test
    void aDirectCallEntersItsSlotWithoutNamingTheCourier() throws IOException {
        Map<String, Integer> slot = codeLengths("org/shadowbox/pagetrack/internal/CallSlot");
        boolean direct = false;
        for (String m : slot.keySet()) {
            if (m.startsWith("enter(")) {
                assertFalse(m.contains("Courier"), "CallSlot." + m + " names Courier: C2 does not inline it where"
                        + " Courier is not loaded yet (no isolated notifier), so the direct call's shape would"
                        + " depend on class loading");
                direct = true;
            }
        }
        assertTrue(direct, "CallSlot.enter is missing: " + slot.keySet());
        for (String m : codeLengths("org/shadowbox/pagetrack/internal/NotifierGuard").keySet()) {
            if (m.startsWith("trackWriteAll(")) {
                assertFalse(m.contains("Courier"), "NotifierGuard." + m + " names Courier");
            }
        }
    }

    @Test
    void readsTheCodeLengthOfAKnownMethod() throws IOException {
        // the parser itself, on a method whose bytecode is known: return a[i].order (aload_1 iload_2 aaload getfield lreturn)
        Map<String, Integer> m = codeLengths("org/shadowbox/pagetrack/internal/DispatchShapeTest$Known");
        assertEquals(7, m.get("order([Lorg/shadowbox/pagetrack/internal/DispatchShapeTest$Known;I)J"));
    }

    /** A method of known bytecode for the parser's own test. */
    static final class Known {
        long order;

        static long order(Known[] a, int i) {
            return a[i].order;
        }
    }

    private static int longest(Map<String, Integer> lengths, String name) {
        int n = -1;
        for (Map.Entry<String, Integer> e : lengths.entrySet()) {
            if (e.getKey().startsWith(name + "(")) {
                n = Math.max(n, e.getValue());
            }
        }
        return n;
    }

    /** Each method's Code length by name and descriptor ({@code name(desc)ret}), from the class file on the test class path. */
    private static Map<String, Integer> codeLengths(String internalName) throws IOException {
        try (InputStream raw = DispatchShapeTest.class.getClassLoader().getResourceAsStream(internalName + ".class")) {
            assertTrue(raw != null, internalName + ".class not on the class path");
            DataInputStream in = new DataInputStream(raw);
            assertEquals(0xCAFEBABE, in.readInt(), "class file magic");
            in.readUnsignedShort();
            in.readUnsignedShort();
            int n = in.readUnsignedShort();
            String[] utf8 = new String[n];
            for (int i = 1; i < n; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1 -> utf8[i] = in.readUTF();
                    case 3, 4 -> in.readInt();
                    case 5, 6 -> {
                        in.readLong();
                        i++; // takes two slots
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
            in.readUnsignedShort(); // access
            in.readUnsignedShort(); // this
            in.readUnsignedShort(); // super
            in.skipNBytes(2L * in.readUnsignedShort()); // interfaces
            int fields = in.readUnsignedShort();
            for (int f = 0; f < fields; f++) {
                in.skipNBytes(6);
                skipAttributes(in);
            }
            Map<String, Integer> out = new HashMap<>();
            int methods = in.readUnsignedShort();
            for (int m = 0; m < methods; m++) {
                in.readUnsignedShort();
                String name = utf8[in.readUnsignedShort()] + utf8[in.readUnsignedShort()];
                int attrs = in.readUnsignedShort();
                for (int a = 0; a < attrs; a++) {
                    String an = utf8[in.readUnsignedShort()];
                    int len = in.readInt();
                    if (an.equals("Code")) {
                        in.readUnsignedShort(); // max_stack
                        in.readUnsignedShort(); // max_locals
                        out.put(name, in.readInt());
                        in.skipNBytes(len - 8L);
                    } else {
                        in.skipNBytes(len);
                    }
                }
            }
            return out;
        }
    }

    private static void skipAttributes(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        for (int a = 0; a < n; a++) {
            in.readUnsignedShort();
            in.skipNBytes(in.readInt());
        }
    }
}
