package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * Seeded random 64-bit guests run twice: through an MMU, and on "bare metal" (the
 * reference walker alone, {@link BareMetal}) in a second, identical VM. The same seed runs
 * through the shadow MMU under the pagetrack policy, under the legacy policy, and through
 * TDP ({@link MmuUnderTest}), so all three show the guest identical results. The guest OS builds,
 * changes and tears down its page tables with guest writes through a page-table window,
 * executes INVLPG on every vCPU after each change (a TLB shootdown), switches CR3 between
 * three address spaces (sharing a kernel half and the window), toggles EFER.NXE, CR0.WP,
 * CR4.SMEP, CR4.SMAP and EFLAGS.AC, and performs reads, writes and fetches of 1-8 bytes, user and
 * supervisor, some crossing pages, some into MMIO holes, some non-canonical. An external
 * tracker write-tracks random data pages on the MMU side (invisible to the guest).
 * Every guest-visible result (value, exception, error code, CR2, page-table A/D bits and
 * memory) must be equal, and the MMU's checker must pass after every step.
 *
 * <p>{@code -Dshadowbox.ops=N} sets the number of operations, {@code -Dshadowbox.seed=S}
 * replays a run.
 */
class DifferentialTest {
    private static final int AS = 3;
    private static final long TABLES = 0x200, DATA = 0x400, DATA_PAGES = 0x400;
    private static final long KPDPT = 0x218, WPDPT = 0x219, WPD = 0x21a, WPT = 0x21b;
    private static final long KPD = 0x230;
    /** PML4 entry 511: the window where every table page is mapped for the OS to edit. */
    private static final long WINDOW = 0xffff_ff80_0000_0000L;
    private static final long KERNEL = 1L << 39;
    private static final long GIGA = 2L << 30; // user PDPT entry 2: a read-only 1 GiB page at gfn 0

    /** One seed for the three configurations of a run, so that they see the same guest. */
    private static final long SEED = Long.getLong("shadowbox.seed", new Random().nextLong());
    private final long seed = SEED;
    private final int ops = Integer.getInteger("shadowbox.ops", 20_000);
    private final Random rnd = new Random(seed);
    private MmuUnderTest s;
    private String config;
    private final Vm ref = new HypervisorImpl().createVm(VmSpec.pc("metal", 64L << 20, 2));
    private final BareMetal metal = new BareMetal();
    private final AccessResult sr = new AccessResult();
    private final AccessResult rr = new AccessResult();
    private PageTrack kvmgt;
    private final List<Long> tracked = new ArrayList<>();
    private final long[] recent = new long[8];
    /** Every table entry the OS uses: table gfn * 512 + index. */
    private final List<Long> entries = new ArrayList<>();
    private int step;
    private String op = "boot";

    private static long pml4(int a) {
        return TABLES + a;
    }

    private static long userPdpt(int a) {
        return 0x210 + a;
    }

    /** PD page {@code p}: 0-5 are the user PDs (AS p / 2, PDPT entry p % 2), 6 is the kernel's. */
    private static long pd(int p) {
        return p < 6 ? 0x220 + p : KPD;
    }

    private static long pt(int p, int j) {
        return 0x240 + 4L * p + j;
    }

    private String where() {
        return config + " seed " + seed + " step " + step + " (" + op + ")";
    }

    @ParameterizedTest
    @ValueSource(strings = {MmuUnderTest.SHADOW_PAGETRACK, MmuUnderTest.SHADOW_LEGACY, MmuUnderTest.TDP})
    void virtualizationIsInvisibleToTheGuest(String configuration) {
        config = configuration;
        s = MmuUnderTest.of(config, "mmu", 64L << 20, 2, 64);
        kvmgt = s.external("test.kvmgt");
        int limit = 24 + rnd.nextInt(300);
        s.limitPages(limit);
        System.out.println("DifferentialTest " + config + " seed " + seed + ", " + ops + " operations, shadow page limit " + limit
                + " (replay: -Dshadowbox.seed=" + seed + ")");
        boot();
        for (step = 1; step <= ops; step++) {
            int dice = rnd.nextInt(100);
            if (dice < 65) {
                randomAccess();
            } else if (dice < 80) {
                changeEntry(entries.get(rnd.nextInt(entries.size())));
            } else if (dice < 87) {
                switchCr3(rnd.nextInt(2), rnd.nextInt(AS));
            } else if (dice < 91) {
                toggleMode(rnd.nextInt(2));
            } else if (dice < 96) {
                trackOrUntrack();
            } else {
                int v = rnd.nextInt(2);
                long gva = randomGva();
                op = "vcpu" + v + " invlpg 0x" + Long.toHexString(gva);
                s.invlpg(v, gva);
            }
            checkEntries();
            List<String> violations = s.check();
            if (!violations.isEmpty()) {
                fail(where() + ": invariants broken: " + violations);
            }
            if (step % 2000 == 0) {
                compareMemory();
            }
        }
        compareMemory();
        System.out.println("DifferentialTest seed " + seed + " stats " + s.stats());
        s.assertCoverage(where());
    }

    /** Firmware sets up the window host-side in both VMs; the OS builds the rest by guest writes. */
    private void boot() {
        for (Vm vm : new Vm[] {s.vm(), ref}) {
            for (int a = 0; a < AS; a++) {
                vm.memory().write((pml4(a) << 12) + 8 * 511, (WPDPT << 12) | Pte.P | Pte.RW | Pte.A, 8);
            }
            vm.memory().write(WPDPT << 12, (WPD << 12) | Pte.P | Pte.RW | Pte.A, 8);
            vm.memory().write(WPD << 12, (WPT << 12) | Pte.P | Pte.RW | Pte.A, 8);
            for (int i = 0; i < 0x60; i++) {
                vm.memory().write((WPT << 12) + 8L * i, ((TABLES + i) << 12) | Pte.P | Pte.RW | Pte.A | Pte.D, 8);
            }
            for (int v = 0; v < 2; v++) {
                Vcpu c = vm.vcpu(v);
                c.set(Register.CR0, ShadowRig.CR0);
                c.set(Register.CR4, ShadowRig.CR4);
                c.set(Register.EFER, ShadowRig.EFER);
                c.set(Register.CR3, pml4(0) << 12);
            }
        }
        for (int a = 0; a < AS; a++) {
            entries.add(pml4(a) * 512);
            entries.add(pml4(a) * 512 + 1);
            entries.add(userPdpt(a) * 512);
            entries.add(userPdpt(a) * 512 + 1);
            entries.add(userPdpt(a) * 512 + 2);
        }
        entries.add(KPDPT * 512);
        for (int p = 0; p < 7; p++) {
            for (int j = 0; j < 4; j++) {
                entries.add(pd(p) * 512 + j);
                for (int k = 0; k < 8; k++) {
                    entries.add(pt(p, j) * 512 + k);
                }
            }
        }
        step = 0;
        for (long e : entries) {
            changeEntry(e);
        }
    }

    /** Rights and status bits for a new entry; sometimes not present, sometimes a reserved bit. */
    private long flags() {
        return flags(false);
    }

    /** Upper entries are mostly permissive, so that most walks reach a leaf. */
    private long flags(boolean upper) {
        long f = 0;
        if (rnd.nextInt(upper ? 40 : 20) > 0) {
            f |= Pte.P;
        }
        f |= rnd.nextInt(20) < (upper ? 18 : 15) ? Pte.RW : 0;
        f |= rnd.nextInt(20) < (upper ? 18 : 15) ? Pte.US : 0;
        f |= rnd.nextInt(10) < 7 ? Pte.A : 0;
        f |= rnd.nextInt(10) < 5 ? Pte.D : 0;
        f |= rnd.nextInt(upper ? 20 : 10) < 2 ? Pte.NX : 0;
        f |= rnd.nextInt(100) < 2 ? 1L << 51 : 0;
        return f;
    }

    /** The value the OS's layout allows for entry {@code e}, with random rights. */
    private long newValue(long e) {
        long table = e / 512;
        int index = (int) (e % 512);
        if (rnd.nextInt(10) == 0) {
            return 0; // tear down
        }
        if (table < TABLES + AS) {
            return ((index == 0 ? userPdpt((int) (table - TABLES)) : KPDPT) << 12) | (flags(true) | Pte.P);
        }
        if (table >= 0x210 && table < 0x210 + AS) {
            int a = (int) (table - 0x210);
            if (index == 2) {
                return Pte.PS | (flags() & ~Pte.RW); // the 1 GiB page at gfn 0 stays read-only
            }
            // Address spaces may share a PD at the same index (so the same gvas): shadow pages are
            // then reached through paths of different rights.
            int owner = rnd.nextInt(3) == 0 ? rnd.nextInt(AS) : a;
            return (pd(2 * owner + index) << 12) | flags(true);
        }
        if (table == KPDPT) {
            return (KPD << 12) | flags(true);
        }
        if (table >= 0x220 && table <= KPD) {
            int p = table == KPD ? 6 : (int) (table - 0x220);
            if (rnd.nextInt(5) == 0) {
                return ((DATA + 0x200L * rnd.nextInt(2)) << 12) | Pte.PS | flags();
            }
            return (pt(p, index) << 12) | flags(true);
        }
        long gfn = rnd.nextInt(20) == 0 ? 0xa0 + rnd.nextInt(0x60) : DATA + rnd.nextInt((int) DATA_PAGES);
        return (gfn << 12) | flags();
    }

    /** The first gva an entry translates (in the address space that owns it). */
    private static long gvaOf(long e) {
        long table = e / 512;
        int index = (int) (e % 512);
        if (table < TABLES + AS) {
            return index == 0 ? 0 : KERNEL;
        }
        if (table >= 0x210 && table < 0x210 + AS) {
            return (long) index << 30;
        }
        if (table == KPDPT) {
            return KERNEL;
        }
        if (table >= 0x220 && table <= KPD) {
            int p = table == KPD ? 6 : (int) (table - 0x220);
            return (p == 6 ? KERNEL : (long) (p % 2) << 30) | ((long) index << 21);
        }
        long ptIndex = table - 0x240;
        int p = (int) (ptIndex / 4);
        int j = (int) (ptIndex % 4);
        return (p == 6 ? KERNEL : (long) (p % 2) << 30) | ((long) j << 21) | ((long) index << 12);
    }

    /** The OS writes a table entry through the window (guest writes), then shoots down every TLB. */
    private void changeEntry(long e) {
        long value = newValue(e);
        long table = e / 512;
        long gva = WINDOW + ((table - TABLES) << 12) + 8 * (e % 512);
        int v = rnd.nextInt(2);
        op = "vcpu" + v + " sets entry " + (e % 512) + " of table 0x" + Long.toHexString(table) + " to 0x"
                + Long.toHexString(value);
        if (rnd.nextInt(8) == 0) {
            both(v, gva, value & 0xffff_ffffL, 4, Pfec.WRITE);
            both(v, gva + 4, value >>> 32, 4, Pfec.WRITE);
        } else {
            both(v, gva, value, 8, Pfec.WRITE);
        }
        assertTrue(sr.ok(), where() + ": the window write failed: " + sr);
        long target = gvaOf(e);
        for (int c = 0; c < 2; c++) {
            s.invlpg(c, target);
        }
    }

    private long randomGva() {
        int region = rnd.nextInt(100);
        long gva;
        if (region < 55) {
            gva = ((long) rnd.nextInt(2) << 30) | ((long) rnd.nextInt(4) << 21)
                    | ((long) (rnd.nextInt(4) == 0 ? rnd.nextInt(512) : rnd.nextInt(8)) << 12);
        } else if (region < 75) {
            gva = KERNEL | ((long) rnd.nextInt(4) << 21) | ((long) rnd.nextInt(8) << 12);
        } else if (region < 85) {
            gva = GIGA | ((long) rnd.nextInt(0x800) << 12);
        } else if (region < 95) {
            gva = WINDOW + ((long) rnd.nextInt(0x60) << 12);
        } else if (region < 97) {
            return 0x0000_8000_0000_0000L + rnd.nextInt(4096); // non-canonical
        } else {
            gva = (long) rnd.nextInt(1 << 20) << 12; // mostly unmapped
        }
        int off = rnd.nextInt(4) == 0 ? 4096 - 1 - rnd.nextInt(7) : rnd.nextInt(512) * 8;
        return gva | off;
    }

    private void randomAccess() {
        int v = rnd.nextInt(2);
        long gva;
        if (rnd.nextBoolean()) {
            gva = recent[rnd.nextInt(recent.length)]; // locality: the same page again, maybe another way
        } else {
            gva = randomGva();
            recent[rnd.nextInt(recent.length)] = gva;
        }
        int size = 1 << rnd.nextInt(4);
        int kind = rnd.nextInt(10);
        int acc = (kind < 5 ? 0 : kind < 8 ? Pfec.WRITE : Pfec.FETCH) | (rnd.nextBoolean() ? Pfec.USER : 0);
        if ((Long.compareUnsigned(gva, WINDOW) >= 0 || (gva >= GIGA && gva < KERNEL)) && (acc & Pfec.WRITE) != 0) {
            // The OS writes its tables only through changeEntry (the 1 GiB page covers them too;
            // with CR0.WP=0 the supervisor could write it).
            acc &= ~Pfec.WRITE;
        }
        long value = rnd.nextLong();
        op = "vcpu" + v + " " + ((acc & Pfec.WRITE) != 0 ? "write" : (acc & Pfec.FETCH) != 0 ? "fetch" : "read")
                + ((acc & Pfec.USER) != 0 ? " user" : " supervisor") + " " + size + " bytes at 0x" + Long.toHexString(gva);
        both(v, gva, value, size, acc);
    }

    /** One access on both machines; the guest-visible results must agree. */
    private void both(int v, long gva, long value, int size, int acc) {
        s.access(v, gva, value, size, acc, sr);
        metal.access(ref.vcpu(v), gva, value, size, acc, rr);
        assertEquals(rr.guestView(), sr.guestView(), where());
        assertEquals(ref.vcpu(v).get(Register.CR2), s.vm().vcpu(v).get(Register.CR2), where() + ": CR2");
    }

    private void switchCr3(int v, int a) {
        op = "vcpu" + v + " mov cr3 <- AS " + a;
        s.writeCr3(v, pml4(a) << 12);
        ref.vcpu(v).set(Register.CR3, pml4(a) << 12);
    }

    private void toggleMode(int v) {
        Register[] regs = {Register.EFER, Register.CR4, Register.CR4, Register.RFLAGS, Register.CR0};
        long[] bits = {Register.EFER_NXE, Register.CR4_SMEP, Register.CR4_SMAP, Register.RFLAGS_AC, Register.CR0_WP};
        int i = rnd.nextInt(5);
        // NXE and WP are mostly on; SMEP and SMAP a third of the time, so most accesses get through.
        boolean on = i == 0 || i == 4 ? rnd.nextInt(5) > 0 : i == 3 ? rnd.nextBoolean() : rnd.nextInt(3) == 0;
        // Never CR4.SMAP with CR0.WP=0: KVM's CR0.WP=0 trick (a supervisor write makes the spte
        // writable and not user) lets a later supervisor read with EFLAGS.AC=0 pass where bare metal
        // raises a SMAP fault. The shadow MMU models KVM there; the difference is documented.
        Vcpu c = s.vm().vcpu(v);
        if (i == 2 && on && (c.get(Register.CR0) & Register.CR0_WP) == 0
                || i == 4 && !on && (c.get(Register.CR4) & Register.CR4_SMAP) != 0) {
            on = !on;
        }
        long now = on ? c.get(regs[i]) | bits[i] : c.get(regs[i]) & ~bits[i];
        op = "vcpu" + v + " " + regs[i] + " <- 0x" + Long.toHexString(now);
        s.vm().vcpu(v).set(regs[i], now);
        ref.vcpu(v).set(regs[i], now);
    }

    /** An external tracker (KVMGT's role) tracks or releases a data page: invisible to the guest. */
    private void trackOrUntrack() {
        if (!tracked.isEmpty() && rnd.nextBoolean()) {
            long gfn = tracked.remove(rnd.nextInt(tracked.size()));
            op = "kvmgt untracks gfn 0x" + Long.toHexString(gfn);
            kvmgt.remove(s.vm(), gfn, TrackMode.WRITE);
        } else {
            long gfn = DATA + rnd.nextInt((int) DATA_PAGES);
            op = "kvmgt tracks gfn 0x" + Long.toHexString(gfn);
            kvmgt.add(s.vm(), gfn, TrackMode.WRITE);
            tracked.add(gfn);
        }
    }

    /** Every entry the OS uses holds the same bits (A/D included) on both machines. */
    private void checkEntries() {
        for (long e : entries) {
            long gpa = (e / 512 << 12) + 8 * (e % 512);
            long want = ref.memory().read(gpa, 8);
            long got = s.vm().memory().read(gpa, 8);
            if (want != got) {
                fail(where() + ": entry " + (e % 512) + " of table 0x" + Long.toHexString(e / 512) + " is 0x"
                        + Long.toHexString(got) + " under the MMU, 0x" + Long.toHexString(want) + " on bare metal");
            }
        }
    }

    private void compareMemory() {
        for (long gfn = 0; gfn < DATA + DATA_PAGES; gfn++) {
            for (int off = 0; off < 4096; off += 8) {
                long gpa = (gfn << 12) + off;
                long want = ref.memory().read(gpa, 8);
                long got = s.vm().memory().read(gpa, 8);
                if (want != got) {
                    fail(where() + ": memory at gpa 0x" + Long.toHexString(gpa) + " is 0x" + Long.toHexString(got)
                            + " under the MMU, 0x" + Long.toHexString(want) + " on bare metal");
                }
            }
        }
    }
}
