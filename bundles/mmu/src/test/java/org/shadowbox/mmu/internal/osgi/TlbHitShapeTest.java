package org.shadowbox.mmu.internal.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.internal.shadow.TlbHitPath;

/**
 * The call boundary of a guest access, by construction (docs/mmu.md, "What a TLB hit costs"):
 * HotSpot's C2 never inlines a method of more than {@code FreqInlineSize} (325) bytes of
 * bytecode, and inlines smaller ones at a hot call site unless their own compiled code is
 * already big. So the general path of an access (after a TLB miss) must be one method over
 * 325 bytes, under both MMUs, and each link of the TLB-hit case from the {@code GuestCpu}
 * adapter down must be well under it. Read from the compiled class files; fails when an edit
 * moves the boundary (a general path split into small pieces the JIT would pull into the
 * hit, or a hit method grown past what its callers inline).
 */
class TlbHitShapeTest {
    /** HotSpot's FreqInlineSize on x86-64 (JDK 17 to 25): the most bytecode C2 inlines at a hot call site. */
    private static final int FREQ_INLINE_SIZE = 325;

    @Test
    void theGeneralPathIsOneMethodTheJitNeverInlines() throws IOException {
        for (String c : new String[] {"org/shadowbox/mmu/internal/shadow/GuestAccess",
                "org/shadowbox/mmu/internal/tdp/TdpAccess"}) {
            int miss = codeLengths(c).getOrDefault("miss", -1);
            assertTrue(miss > FREQ_INLINE_SIZE, c + ".miss has " + miss + " bytes of bytecode; it must be over "
                    + FREQ_INLINE_SIZE + " so that no caller inlines the general path into the TLB hit");
        }
    }

    @Test
    void theHitCaseIsSmallAtEveryLink() throws IOException {
        Map<String, Integer> limits = new HashMap<>();
        // the adapter's access methods: the hit case and one call, a few bytecodes each
        limits.put("org/shadowbox/mmu/internal/osgi/ShadowGuestCpu read", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/ShadowGuestCpu write", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/ShadowGuestCpu fetch", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/TdpGuestCpu read", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/TdpGuestCpu write", 64);
        limits.put("org/shadowbox/mmu/internal/osgi/TdpGuestCpu fetch", 64);
        // the vCPU's hit: the fit, the request word, the TLB and the load or store
        limits.put("org/shadowbox/mmu/internal/shadow/VcpuMmu loadHit", 160);
        limits.put("org/shadowbox/mmu/internal/shadow/VcpuMmu storeHit", 160);
        limits.put("org/shadowbox/mmu/internal/tdp/TdpVcpu loadHit", 160);
        limits.put("org/shadowbox/mmu/internal/tdp/TdpVcpu storeHit", 160);
        // the adapter's way to the general path: the liveness check, the mutex, one call
        limits.put("org/shadowbox/mmu/internal/osgi/ResultCpu miss", 120);
        for (Map.Entry<String, Integer> e : limits.entrySet()) {
            String[] cm = e.getKey().split(" ");
            int n = codeLengths(cm[0]).getOrDefault(cm[1], -1);
            assertTrue(n > 0, e.getKey() + " is missing");
            assertTrue(n <= e.getValue(), e.getKey() + " has " + n + " bytes of bytecode, over " + e.getValue()
                    + ": keep the rare cases in the general path (miss), out of the hit");
        }
    }

    /** {@code TlbHitPath.fits}, one branch-free test, against the rule written out, for every offset and many sizes. */
    @Test
    void fitsIsTheSizeAndPageCrossRule() {
        for (int size = -70; size <= 70; size++) {
            for (int off = 0; off < 4096; off++) {
                boolean rule = (size == 1 || size == 2 || size == 4 || size == 8) && off + size <= 4096;
                if (TlbHitPath.fits(size, off) != rule) {
                    assertEquals(rule, TlbHitPath.fits(size, off), "fits(size " + size + ", offset " + off + ")");
                }
            }
        }
        for (int size : new int[] {Integer.MIN_VALUE, -1 << 16, 1 << 16, 33, 34, 36, 40, Integer.MAX_VALUE}) {
            assertEquals(false, TlbHitPath.fits(size, 0), "fits(size " + size + ", 0)");
        }
    }

    @Test
    void readsTheCodeLengthOfAKnownMethod() throws IOException {
        // the parser itself, on a method whose bytecode is known
        int none = codeLengths("org/shadowbox/mmu/internal/shadow/VcpuRequests").getOrDefault("none", -1);
        assertEquals(13, none, "VcpuRequests.none: return bits == 0 (aload_0 getfield ifne iconst_1 goto iconst_0 ireturn)");
    }

    /** Each method's Code length (the longest, for overloads), from the class file on the test class path. */
    private static Map<String, Integer> codeLengths(String internalName) throws IOException {
        try (InputStream raw = TlbHitShapeTest.class.getClassLoader().getResourceAsStream(internalName + ".class")) {
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
                String name = utf8[in.readUnsignedShort()];
                in.readUnsignedShort();
                int attrs = in.readUnsignedShort();
                for (int a = 0; a < attrs; a++) {
                    String an = utf8[in.readUnsignedShort()];
                    int len = in.readInt();
                    if (an.equals("Code")) {
                        in.readUnsignedShort(); // max_stack
                        in.readUnsignedShort(); // max_locals
                        int code = in.readInt();
                        out.merge(name, code, Math::max);
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
        int attrs = in.readUnsignedShort();
        for (int a = 0; a < attrs; a++) {
            in.readUnsignedShort();
            in.skipNBytes(in.readInt() & 0xFFFFFFFFL);
        }
    }
}
