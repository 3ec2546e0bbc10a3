package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * Seeded random guests in every paging mode (64-bit, PAE, 32-bit), each run through every MMU
 * configuration ({@link MmuUnderTest}: the shadow MMU under the pagetrack policy, under the
 * legacy policy, and TDP), nine runs in all, each against "bare metal" (the reference walker
 * alone, {@link BareMetal}) in a second, identical VM. One seed drives all nine, so the three
 * configurations of a mode see the very same guest. The guest OS ({@link GuestOs}, one layout
 * per mode) builds, changes and tears down its page tables with guest writes through a
 * page-table window, executes INVLPG on every vCPU after each change (a TLB shootdown; after a
 * PAE PDPTE change it writes CR3 instead, as a PAE OS must), switches CR3 between three address
 * spaces, toggles EFER.NXE, CR0.WP, CR4.SMEP, CR4.SMAP and EFLAGS.AC, turns paging off and on
 * again (CR0.PG, leaving and re-entering long mode: KVM's nonpaging context, where the gva's 32
 * bits are the gpa), and performs reads, writes and fetches of 1-8 bytes, user and supervisor,
 * some crossing pages, some into MMIO holes, some non-canonical (or above 4 GiB in the 32-bit
 * modes); with paging off mostly at guest-physical addresses (reads of page tables too; the OS
 * then edits a table entry at its guest-physical address rather than through the window). An
 * external tracker write-tracks random data and page-table pages on the MMU side (invisible to
 * the guest). Every guest-visible
 * result (value, exception, error code, CR2, page-table A/D bits and memory) must be equal, the
 * MMU's checker ({@link MmuChecker} or the TDP checker) must pass after every step, and each run
 * must have exercised its configuration's paths ({@link MmuUnderTest#assertCoverage}).
 *
 * <p>Every failure message names the mode, the configuration, the seed and the step, with the
 * switches that replay it. Switches (system properties, passed through by Maven):
 * <ul>
 * <li>{@code -Dshadowbox.seed=S} replays seed S (default: a new random seed per JVM);
 * <li>{@code -Dshadowbox.mode=64|pae|32} runs only that paging mode;
 * <li>{@code -Dshadowbox.config=shadow-pagetrack|shadow-legacy|tdp} runs only that configuration;
 * <li>{@code -Dshadowbox.ops=N} sets the operations per run (default 34,000: 306,000 in all; a
 *     longer run by hand, e.g. {@code -Dshadowbox.ops=500000}, goes much further).
 * </ul>
 * For example: {@code mvn -o -pl bundles/mmu test -Dtest=DifferentialTest -Dshadowbox.mode=pae
 * -Dshadowbox.config=shadow-legacy -Dshadowbox.seed=42}.
 *
 * <p>Other tests (the write-flood bundle's) make {@link Run}s of their own with a pte-write
 * handler bound to a shadow configuration: {@link Run#attached}, {@link Run#beforeStep} and
 * {@link Run#assertCoverage} are theirs to override, {@link Run#s} and {@link MmuUnderTest#shadow}
 * give them the rig.
 */
class DifferentialTest {
    private static final int OPS = Integer.getInteger("shadowbox.ops", 34_000);
    /** One seed for every run of the class, so that the configurations of a mode see the same guest. */
    private static final long SEED = Long.getLong("shadowbox.seed", 0x5eed_2016L); // fixed: CI must be deterministic; -Dshadowbox.seed explores

    static Stream<Arguments> runs() {
        List<Arguments> out = new ArrayList<>();
        for (PagingMode mode : new PagingMode[] {PagingMode.LONG, PagingMode.PAE, PagingMode.BITS32}) {
            for (String config : new String[] {MmuUnderTest.SHADOW_PAGETRACK, MmuUnderTest.SHADOW_LEGACY,
                MmuUnderTest.TDP}) {
                out.add(Arguments.of(mode, config));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("runs")
    void virtualizationIsInvisibleToTheGuest(PagingMode mode, String config) {
        new Run(mode, config).run();
    }

    /** One run: an MMU configuration and a bare-metal VM with the same random OS of one paging mode. */
    static class Run {
        private final PagingMode mode;
        private final String config;
        private final int ops;
        private final long seed = SEED;
        private final Random rnd = new Random(seed);
        private final GuestOs os;
        final MmuUnderTest s;
        private final Vm ref = new HypervisorImpl().createVm(VmSpec.pc("metal", 64L << 20, 2));
        private final BareMetal metal = new BareMetal();
        private final AccessResult sr = new AccessResult();
        private final AccessResult rr = new AccessResult();
        private final PageTrack kvmgt;
        private final List<Long> tracked = new ArrayList<>();
        private final long[] recent = new long[8];
        private int step;
        private String op = "boot";

        Run(PagingMode mode, String config) {
            this(mode, config, OPS);
        }

        /** Skipped (an assumption) unless {@code -Dshadowbox.mode} and {@code -Dshadowbox.config} allow it. */
        Run(PagingMode mode, String config, int ops) {
            String onlyMode = System.getProperty("shadowbox.mode");
            String onlyConfig = System.getProperty("shadowbox.config");
            Assumptions.assumeTrue(onlyMode == null || onlyMode.equals(mode.name()), "only mode " + onlyMode + " runs");
            Assumptions.assumeTrue(onlyConfig == null || onlyConfig.equals(config), "only " + onlyConfig + " runs");
            this.mode = mode;
            this.config = config;
            this.ops = ops;
            this.os = GuestOs.of(mode);
            this.s = MmuUnderTest.of(config, mode, "mmu", 64L << 20, 2, 64);
            this.kvmgt = s.external("test.kvmgt");
        }

        String where() {
            return "mode " + mode + " " + config + " seed " + seed + " step " + step + " (" + op
                    + ") [replay: -Dshadowbox.mode=" + mode + " -Dshadowbox.config=" + config + " -Dshadowbox.seed="
                    + seed + "]";
        }

        /** Called once the rig exists, before the guest boots. */
        void attached() {
        }

        /** Called before every step of the random sequence. */
        void beforeStep(int step, int steps) {
        }

        /** What the run must have exercised: its configuration's paths ({@link MmuUnderTest#assertCoverage}). */
        void assertCoverage() {
            s.assertCoverage(where());
        }

        void run() {
            int limit = 24 + rnd.nextInt(300);
            s.limitPages(limit);
            System.out.println(getClass().getName() + " mode " + mode + " " + config + " seed " + seed + ", " + ops
                    + " operations, shadow page limit " + limit);
            attached();
            boot();
            for (step = 1; step <= ops; step++) {
                op = "between steps";
                beforeStep(step, ops);
                int dice = rnd.nextInt(100);
                if (dice < 65) {
                    randomAccess();
                } else if (dice < 80) {
                    changeEntry(os.entries.get(rnd.nextInt(os.entries.size())));
                } else if (dice < 87) {
                    switchCr3(rnd.nextInt(2), rnd.nextInt(GuestOs.AS));
                } else if (dice < 91) {
                    toggleMode(rnd.nextInt(2));
                } else if (dice < 96) {
                    trackOrUntrack();
                } else {
                    int v = rnd.nextInt(2);
                    long gva = os.randomGva(rnd);
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
            System.out.println(getClass().getName() + " mode " + mode + " " + config + " seed " + seed + " stats "
                    + s.stats());
            assertCoverage();
        }

        /** Firmware sets up the window host-side in both VMs; the OS builds the rest by guest writes. */
        private void boot() {
            for (Vm vm : new Vm[] {s.vm(), ref}) {
                os.firmware(vm);
                for (int v = 0; v < 2; v++) {
                    Vcpu c = vm.vcpu(v);
                    c.reset(); // from reset, as a boot: then CR4 and EFER before paging, as x86 requires
                    c.set(Register.CR4, os.cr4());
                    c.set(Register.EFER, os.efer());
                    c.set(Register.CR0, ShadowRig.CR0);
                    c.set(Register.CR3, os.cr3(0));
                }
            }
            step = 0;
            for (long e : os.entries) {
                changeEntry(e);
            }
        }

        private String describe(long gpa) {
            return "entry " + (gpa & 4095) / os.entrySize() + " of table 0x" + Long.toHexString(gpa >>> 12);
        }

        /**
         * The OS writes a table entry through the window (guest writes: whole, or in halves), then
         * shoots down every TLB: INVLPG, or a CR3 write on every vCPU after a PAE PDPTE change.
         */
        private void changeEntry(long gpa) {
            long value = os.newValue(rnd, gpa);
            int v = rnd.nextInt(2);
            long gva = pagingOff(v) ? gpa : os.windowGva(gpa); // paging off: the table at its gpa
            int size = os.entrySize();
            op = "vcpu" + v + " sets " + describe(gpa) + " to 0x" + Long.toHexString(value);
            if (rnd.nextInt(8) == 0) {
                int half = size / 2;
                long mask = (1L << (8 * half)) - 1;
                both(v, gva, value & mask, half, Pfec.WRITE);
                assertTrue(sr.ok(), where() + ": the window write failed: " + sr);
                both(v, gva + half, value >>> (8 * half), half, Pfec.WRITE);
            } else {
                both(v, gva, value, size, Pfec.WRITE);
            }
            assertTrue(sr.ok(), where() + ": the window write failed: " + sr);
            for (int c = 0; c < 2; c++) {
                if (os.needsCr3Reload(gpa)) {
                    s.writeCr3(c, s.vm().vcpu(c).get(Register.CR3));
                } else {
                    s.invlpg(c, os.gvaOf(gpa));
                }
            }
        }

        private void randomAccess() {
            int v = rnd.nextInt(2);
            long gva;
            boolean physical = pagingOff(v) && rnd.nextInt(4) > 0;
            if (physical) {
                // Paging off: a guest-physical address (data or a page table), now and then with
                // high bits the processor drops.
                long gfn = rnd.nextInt((int) (GuestOs.DATA + GuestOs.DATA_PAGES));
                gva = (gfn << 12) + rnd.nextInt(4096) + (rnd.nextInt(8) == 0 ? (long) rnd.nextInt(16) << 32 : 0);
            } else if (rnd.nextBoolean()) {
                gva = recent[rnd.nextInt(recent.length)]; // locality: the same page again, maybe another way
            } else {
                gva = os.randomGva(rnd);
                recent[rnd.nextInt(recent.length)] = gva;
            }
            int size = 1 << rnd.nextInt(4);
            int kind = rnd.nextInt(10);
            int acc = (kind < 5 ? 0 : kind < 8 ? Pfec.WRITE : Pfec.FETCH) | (rnd.nextBoolean() ? Pfec.USER : 0);
            boolean forbidden = pagingOff(v) ? (gva & 0xffff_ffffL) >>> 12 < GuestOs.DATA // a table, physically
                    : os.writeForbidden(gva) || os.writeForbidden(gva + size - 1);
            if (forbidden) {
                acc &= ~Pfec.WRITE; // the OS writes its tables only through changeEntry
            }
            long value = rnd.nextLong();
            op = "vcpu" + v + " " + ((acc & Pfec.WRITE) != 0 ? "write" : (acc & Pfec.FETCH) != 0 ? "fetch" : "read")
                    + ((acc & Pfec.USER) != 0 ? " user" : " supervisor") + " " + size + " bytes at 0x"
                    + Long.toHexString(gva);
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
            s.writeCr3(v, os.cr3(a));
            ref.vcpu(v).set(Register.CR3, os.cr3(a));
        }

        private void toggleMode(int v) {
            Register[] regs = {Register.EFER, Register.CR4, Register.CR4, Register.RFLAGS, Register.CR0, Register.CR0};
            long[] bits = {Register.EFER_NXE, Register.CR4_SMEP, Register.CR4_SMAP, Register.RFLAGS_AC, Register.CR0_WP,
                Register.CR0_PG};
            int i = rnd.nextInt(6);
            if (i == 5) {
                togglePaging(v);
                return;
            }
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

        private boolean pagingOff(int v) {
            return (s.vm().vcpu(v).get(Register.CR0) & Register.CR0_PG) == 0;
        }

        /**
         * CR0.PG: off a quarter of the time it is chosen, on again otherwise. Turning it off leaves
         * long mode (EFER.LMA clears, as the processor does); turning it on re-enters the OS's mode.
         */
        private void togglePaging(int v) {
            Vcpu c = s.vm().vcpu(v);
            boolean on = rnd.nextInt(4) > 0;
            long cr0 = on ? c.get(Register.CR0) | Register.CR0_PG : c.get(Register.CR0) & ~Register.CR0_PG;
            long efer = on ? c.get(Register.EFER) | (os.efer() & Register.EFER_LMA) : c.get(Register.EFER) & ~Register.EFER_LMA;
            op = "vcpu" + v + " CR0 <- 0x" + Long.toHexString(cr0) + ", EFER <- 0x" + Long.toHexString(efer);
            for (Vcpu x : new Vcpu[] {c, ref.vcpu(v)}) {
                if (!on && (x.get(Register.EFER) & Register.EFER_LMA) != 0) {
                    // x86 clears CR0.PG in long mode only from compatibility mode, which the sandbox
                    // (no CS register) has not: leave through INIT, keeping the rest of the state.
                    long cr2 = x.get(Register.CR2);
                    long cr3 = x.get(Register.CR3);
                    long cr4 = x.get(Register.CR4);
                    long rflags = x.get(Register.RFLAGS);
                    x.reset();
                    x.set(Register.CR0, cr0 & ~Register.CR0_PG);
                    x.set(Register.CR4, cr4);
                    x.set(Register.CR2, cr2);
                    x.set(Register.CR3, cr3);
                    x.set(Register.RFLAGS, rflags);
                }
                x.set(Register.CR0, cr0);
                x.set(Register.EFER, efer);
            }
        }

        /** An external tracker (KVMGT's role) tracks or releases a page: invisible to the guest. */
        private void trackOrUntrack() {
            if (!tracked.isEmpty() && rnd.nextBoolean()) {
                long gfn = tracked.remove(rnd.nextInt(tracked.size()));
                op = "kvmgt untracks gfn 0x" + Long.toHexString(gfn);
                kvmgt.remove(s.vm(), gfn, TrackMode.WRITE);
            } else {
                // Mostly data pages; sometimes a page table, whose writes are then always emulated.
                long gfn = rnd.nextInt(4) == 0 ? os.entries.get(rnd.nextInt(os.entries.size())) >>> 12
                        : GuestOs.DATA + rnd.nextInt((int) GuestOs.DATA_PAGES);
                op = "kvmgt tracks gfn 0x" + Long.toHexString(gfn);
                kvmgt.add(s.vm(), gfn, TrackMode.WRITE);
                tracked.add(gfn);
            }
        }

        /** Every entry the OS uses holds the same bits (A/D included) on both machines. */
        private void checkEntries() {
            int size = os.entrySize();
            for (long gpa : os.entries) {
                long want = ref.memory().read(gpa, size);
                long got = s.vm().memory().read(gpa, size);
                if (want != got) {
                    fail(where() + ": " + describe(gpa) + " is 0x" + Long.toHexString(got) + " under " + config
                            + ", 0x" + Long.toHexString(want) + " on bare metal");
                }
            }
        }

        private void compareMemory() {
            for (long gfn = 0; gfn < GuestOs.DATA + GuestOs.DATA_PAGES; gfn++) {
                for (int off = 0; off < 4096; off += 8) {
                    long gpa = (gfn << 12) + off;
                    long want = ref.memory().read(gpa, 8);
                    long got = s.vm().memory().read(gpa, 8);
                    if (want != got) {
                        fail(where() + ": memory at gpa 0x" + Long.toHexString(gpa) + " is 0x" + Long.toHexString(got)
                                + " under " + config + ", 0x" + Long.toHexString(want) + " on bare metal");
                    }
                }
            }
        }
    }
}
