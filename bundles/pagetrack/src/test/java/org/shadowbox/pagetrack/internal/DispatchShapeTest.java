package org.shadowbox.pagetrack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.shadowbox.testing.ClassFileCode.assertEachAtMost;
import static org.shadowbox.testing.ClassFileCode.codeLengths;
import static org.shadowbox.testing.ClassFileCode.longest;

import java.io.IOException;
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
        assertEachAtMost(limits, "keep the rare cases and the dispatch out of it");
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
}
