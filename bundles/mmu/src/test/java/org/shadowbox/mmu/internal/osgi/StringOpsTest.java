package org.shadowbox.mmu.internal.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * {@link GuestCpu#writeString} and {@link GuestCpu#copyString} ({@code rep stos}, {@code rep
 * movs}) against the same elements made one {@link GuestCpu#read} and {@link GuestCpu#write} at
 * a time, on two identical VMs under each MMU: seeded random strings over the {@link Rig}'s
 * pages (user data, the page directory itself, so that stores are trapped and emulated, the
 * page table, an NX page, and an unmapped page where a string faults part way), of every
 * element size, aligned or not (elements that cross a page), with INVLPG and CR3 writes between
 * them. After every step the returned count, the last access's outcome, the guest's memory and
 * every MMU counter must be equal, and the MMU's checker must pass: a string instruction is the
 * same modelled work as its elements, with one guest-mode entry per run of TLB hits. The seed is
 * in every failure message: replay with {@code -Dshadowbox.seed=S}.
 */
class StringOpsTest {
    private static final long BASE = 0x400000;
    private static final long[] PAGES = {Rig.PML4, Rig.PDPT, Rig.PD, Rig.PT, Rig.DATA, Rig.DATA_NX};

    private Rig rig;

    @BeforeEach
    void start() {
        rig = new Rig();
        rig.start();
    }

    @AfterEach
    void stop() {
        rig.stop();
    }

    static LongStream seeds() {
        Long fixed = Long.getLong("shadowbox.seed");
        if (fixed != null) {
            return LongStream.of(fixed);
        }
        Random r = new Random();
        return LongStream.generate(r::nextLong).limit(3);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void stringsDoWhatTheirElementsDoUnderShadowPaging(long seed) {
        compare(seed, VmSpec.MMU_SHADOW);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void stringsDoWhatTheirElementsDoUnderTdp(long seed) {
        compare(seed, VmSpec.MMU_TDP);
    }

    private void compare(long seed, String mmu) {
        Random rnd = new Random(seed);
        Vm a = rig.hv.createVm(VmSpec.pc("strings-" + mmu, 64L << 20, 1).with(VmSpec.MMU, mmu));
        Vm b = rig.hv.createVm(VmSpec.pc("elements-" + mmu, 64L << 20, 1).with(VmSpec.MMU, mmu));
        Rig.buildTables(a);
        Rig.buildTables(b);
        GuestCpu sa = rig.mmu.cpu(a, 0);
        GuestCpu eb = rig.mmu.cpu(b, 0);
        int faulted = 0;
        for (int step = 0; step < 400; step++) {
            String where = mmu + ", seed " + seed + " (-Dshadowbox.seed=" + seed + "), step " + step + ": ";
            int size = 1 << rnd.nextInt(4);
            // mostly the data pages, now and then the tables (trapped stores) and the unmapped page
            long dst = BASE + (rnd.nextInt(4) == 0 ? rnd.nextInt(5) : rnd.nextBoolean() ? 0 : 3) * 4096L
                    + (rnd.nextBoolean() ? rnd.nextInt(4096 / size) * size : rnd.nextInt(4096));
            long src = BASE + (rnd.nextInt(6) == 0 ? 4 : rnd.nextBoolean() ? 0 : 3) * 4096L + rnd.nextInt(4096);
            int count = rnd.nextInt(4) == 0 ? rnd.nextInt(3) : rnd.nextInt(600);
            boolean user = rnd.nextInt(3) != 0;
            long value = rnd.nextBoolean() ? 0 : rnd.nextLong();
            int op = rnd.nextInt(10);
            int got;
            int want;
            String what;
            if (op < 5) {
                what = "writeString(0x" + Long.toHexString(dst) + ", " + size + " x " + count + ")";
                got = sa.writeString(dst, value, size, count, user);
                want = elementsStore(eb, dst, value, size, count, user);
            } else if (op < 9) {
                what = "copyString(0x" + Long.toHexString(dst) + " <- 0x" + Long.toHexString(src) + ", " + size + " x "
                        + count + ")";
                got = sa.copyString(dst, src, size, count, user);
                want = elementsCopy(eb, dst, src, size, count, user);
            } else {
                long gva = BASE + rnd.nextInt(5) * 4096L;
                what = rnd.nextBoolean() ? "invlpg 0x" + Long.toHexString(gva) : "CR3 write";
                if (what.startsWith("invlpg")) {
                    sa.invlpg(gva);
                    eb.invlpg(gva);
                } else {
                    sa.writeRegister(Register.CR3, Rig.PML4 << 12);
                    eb.writeRegister(Register.CR3, Rig.PML4 << 12);
                }
                got = want = 0;
            }
            where += what + ": ";
            assertEquals(want, got, where + "elements done");
            assertEquals(eb.exception(), sa.exception(), where + "exception");
            assertEquals(eb.errorCode(), sa.errorCode(), where + "error code");
            assertEquals(eb.emulated(), sa.emulated(), where + "emulated");
            if (op < 9 && got < count) {
                faulted++;
            }
            for (long page : PAGES) {
                for (int off = 0; off < 4096; off += 8) {
                    long gpa = (page << 12) + off;
                    assertEquals(b.memory().read(gpa, 8), a.memory().read(gpa, 8),
                            where + "guest memory at gpa 0x" + Long.toHexString(gpa));
                }
            }
            assertEquals(counters(b), counters(a), where + "MMU counters");
            // on both: the checker's own hash lookups are counted too
            assertEquals(List.of(), rig.mmu.check(a), where + "the MMU checker");
            assertEquals(List.of(), rig.mmu.check(b), where + "the MMU checker, element by element");
        }
        assertTrue(faulted > 10, "seed " + seed + ": strings that fault part way: " + faulted);
        long trapped = counters(a).getOrDefault("pf_emulate", 0L);
        assertTrue(trapped > 0 || mmu.equals(VmSpec.MMU_TDP), "seed " + seed + ": no trapped store was emulated");
    }

    private static int elementsStore(GuestCpu c, long gva, long value, int size, int count, boolean user) {
        for (int n = 0; n < count; n++) {
            if (!c.write(gva + (long) n * size, value, size, user)) {
                return n;
            }
        }
        return count;
    }

    private static int elementsCopy(GuestCpu c, long dst, long src, int size, int count, boolean user) {
        for (int n = 0; n < count; n++) {
            long off = (long) n * size;
            if (!c.read(src + off, size, user) || !c.write(dst + off, c.value(), size, user)) {
                return n;
            }
        }
        return count;
    }

    private Map<String, Long> counters(Vm vm) {
        Map<String, Long> m = new TreeMap<>();
        for (Mmu.Stat s : rig.mmu.stats(vm)) {
            m.put(s.name(), s.value());
        }
        return m;
    }

    @Test
    void aBadSizeOrCountIsOneLineAndChangesNothing() {
        Vm vm = rig.vm("bad");
        Rig.buildTables(vm);
        GuestCpu c = rig.mmu.cpu(vm, 0);
        long before = vm.memory().read(Rig.DATA << 12, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.writeString(BASE, 0, 3, 4, true));
        assertEquals("string element size 3: accepted are 1, 2, 4 and 8 bytes", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.copyString(BASE, BASE + 8, 8, -1, true));
        assertEquals("string element count -1 < 0: accepted are 0 or more", e.getMessage());
        assertEquals(before, vm.memory().read(Rig.DATA << 12, 8));
        assertEquals(0, c.writeString(BASE, 1, 8, 0, true), "no elements, nothing done");
        assertEquals(before, vm.memory().read(Rig.DATA << 12, 8));
    }
}
