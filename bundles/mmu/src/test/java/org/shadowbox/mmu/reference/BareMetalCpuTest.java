package org.shadowbox.mmu.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/** BareMetalCpu against hand-built tables and a flat model of pages and rights. */
class BareMetalCpuTest {
    private static final long P = 1, RW = 2, US = 4, A = 1L << 5, D = 1L << 6, PS = 1L << 7, NX = 1L << 63;
    private static final long PML4 = 0x100, PDPT = 0x101, PD = 0x102, PT = 0x103;

    private final Vm vm = new HypervisorImpl().createVm(VmSpec.pc("b", 16L << 20, 1).with(VmSpec.PAGING, "64"));
    private final GuestMemory mem = vm.memory();
    private final Vcpu vcpu = vm.vcpu(0);
    private final BareMetalCpu cpu = new BareMetalCpu(vcpu);

    BareMetalCpuTest() {
        vcpu.set(Register.CR3, PML4 << 12);
        pte(PML4, 0, (PDPT << 12) | P | RW | US);
        pte(PDPT, 0, (PD << 12) | P | RW | US);
        pte(PD, 0, (PT << 12) | P | RW | US);
    }

    private void pte(long table, int index, long value) {
        mem.write((table << 12) + 8L * index, value, 8);
    }

    private long readPte(long table, int index) {
        return mem.read((table << 12) + 8L * index, 8);
    }

    @Test
    void readWriteAndFetchTranslateAndSetAccessedAndDirty() {
        pte(PT, 5, (0x200L << 12) | P | RW | US);
        assertTrue(cpu.write(0x5008, 0x1122334455667788L, 8, true));
        assertEquals(0x200008, cpu.gpa());
        assertEquals(0x1122334455667788L, mem.read(0x200008, 8));
        assertEquals(P | RW | US | A | D, readPte(PT, 5) & 0xfff);
        assertEquals(P | RW | US | A, readPte(PD, 0) & 0xfff, "a non-leaf entry gets A, never D");
        assertTrue(cpu.read(0x500c, 2, false));
        assertEquals(0x3344, cpu.value());
        assertTrue(cpu.fetch(0x5008, 8, true));
        assertEquals(0x1122334455667788L, cpu.value());
        assertEquals(GuestCpu.NO_EXCEPTION, cpu.exception());
        assertFalse(cpu.emulated());
    }

    @Test
    void aNotPresentPageFaultsWithItsErrorCodeAndCr2() {
        assertFalse(cpu.write(0x7123, 1, 4, true));
        assertEquals(GuestCpu.PAGE_FAULT, cpu.exception());
        assertEquals(0b110, cpu.errorCode(), "W|U, not P");
        assertEquals(0x7123, vcpu.get(Register.CR2));
        pte(PT, 7, (0x201L << 12) | P | US);
        assertFalse(cpu.write(0x7123, 1, 4, true));
        assertEquals(0b111, cpu.errorCode(), "P|W|U: a write to a read-only page");
        assertTrue(cpu.read(0x7123, 4, true));
    }

    @Test
    void aCrossPageWriteStoresNothingWhenTheSecondPageFaults() {
        pte(PT, 1, (0x210L << 12) | P | RW);
        assertFalse(cpu.write(0x1ffc, -1L, 8, false));
        assertEquals(0x2000, vcpu.get(Register.CR2));
        assertEquals(0, mem.read(0x210ffc, 4));
        pte(PT, 2, (0x300L << 12) | P | RW);
        assertTrue(cpu.write(0x1ffc, 0x0807060504030201L, 8, false));
        assertEquals(0x04030201L, mem.read(0x210ffc, 4));
        assertEquals(0x08070605L, mem.read(0x300000, 4));
        assertTrue(cpu.read(0x1ffe, 4, false));
        assertEquals(0x06050403L, cpu.value());
        assertEquals(0x210ffe, cpu.gpa());
    }

    @Test
    void theInspectorChangesNeitherTablesNorTheVcpu() {
        pte(PT, 3, (0x220L << 12) | P | RW | US);
        mem.write(0x220010, 42, 8);
        BareMetalCpu probe = BareMetalCpu.inspector(vcpu);
        assertTrue(probe.read(0x3010, 8, true));
        assertEquals(42, probe.value());
        assertEquals(P | RW | US, readPte(PT, 3) & 0xfff, "no A bit set by an inspector");
        assertFalse(probe.read(0x9000, 8, true));
        assertEquals(0, vcpu.get(Register.CR2), "no CR2 written by an inspector");
        probe.writeRegister(Register.CR3, 0x1234000);
        assertEquals(PML4 << 12, vcpu.get(Register.CR3), "the inspector's registers are its own");
    }

    @Test
    void paeAndThirtyTwoBitTablesTranslate() {
        // PAE: PDPT at 0x400000 (entry 0: P only), PD 0x401, PT 0x402.
        vcpu.reset(); // long mode is left through INIT only
        vcpu.set(Register.CR4, Register.CR4_PAE);
        vcpu.set(Register.EFER, Register.EFER_NXE);
        vcpu.set(Register.CR0, Register.CR0_PG | Register.CR0_WP | Register.CR0_PE);
        vcpu.set(Register.CR3, 0x400000);
        mem.write(0x400000, 0x401000 | P, 8);
        mem.write(0x401000 + 8, 0x402000 | P | RW | US, 8); // PDE 1: va 2 MiB
        mem.write(0x402000 + 8 * 3, 0x230000 | P | RW | US, 8);
        assertTrue(cpu.read(0x203008, 8, true));
        assertEquals(0x230008, cpu.gpa());
        mem.write(0x401000 + 16, 0x600000 | P | RW | PS | NX, 8); // a 2 MiB page at va 4 MiB, no exec
        assertTrue(cpu.read(0x412345, 1, false));
        assertEquals(0x612345, cpu.gpa());
        assertFalse(cpu.fetch(0x412345, 1, false));
        assertEquals(0x11, cpu.errorCode(), "P|I/D");
        // 32-bit with PSE: PD 0x500, a 4 MiB page at va 8 MiB and a PT for va 0.
        vcpu.set(Register.CR0, Register.CR0_PE); // paging off, then 32-bit paging with PSE
        vcpu.set(Register.CR4, Register.CR4_PSE);
        vcpu.set(Register.EFER, 0);
        vcpu.set(Register.CR0, Register.CR0_PG | Register.CR0_WP | Register.CR0_PE);
        vcpu.set(Register.CR3, 0x500000);
        mem.write(0x500000 + 4 * 2, 0x800000 | P | RW | PS, 4);
        mem.write(0x500000, 0x501000 | P | RW | US, 4);
        mem.write(0x501000 + 4 * 9, 0x240000 | P | US, 4);
        assertTrue(cpu.read(0x9ff0, 4, true));
        assertEquals(0x240ff0, cpu.gpa());
        assertTrue(cpu.write(0x812344, 7, 4, false));
        assertEquals(0x812344, cpu.gpa());
        assertEquals(0x800000 | P | RW | PS | A | D, mem.read(0x500008, 4));
    }

    @Test
    void badSizesAreRefused() {
        VmException e = assertThrows(VmException.class, () -> cpu.read(0, 3, false));
        assertEquals("bad access size 3: accepted 1, 2, 4 or 8 bytes", e.getMessage());
    }

    /**
     * Random leaf rights on 16 pages and random accesses, against a flat model: fault iff not
     * present, user on a supervisor page, write on a read-only page (CR0.WP), fetch from NX.
     */
    @Test
    void randomRightsAndAccessesMatchAFlatModel() {
        long seed = 0x5eedL;
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] leaf = new long[16];
        long[] model = new long[16 * 512];
        for (int step = 0; step < 20_000; step++) {
            int page = rnd.nextInt(16);
            if (rnd.nextInt(8) == 0) {
                long bits = rnd.nextLong() & (P | RW | US);
                if (rnd.nextBoolean()) {
                    bits |= NX;
                }
                leaf[page] = ((0x300L + page) << 12) | bits;
                pte(PT, page, leaf[page]);
                continue;
            }
            int word = rnd.nextInt(512);
            long gva = ((long) page << 12) + 8L * word;
            boolean user = rnd.nextBoolean();
            int kind = rnd.nextInt(3);
            long l = leaf[page];
            boolean fault = (l & P) == 0 || (user && (l & US) == 0) || (kind == 1 && (l & RW) == 0)
                    || (kind == 2 && (l & NX) != 0);
            long v = rnd.nextLong();
            boolean ok = kind == 0 ? cpu.read(gva, 8, user) : kind == 1 ? cpu.write(gva, v, 8, user) : cpu.fetch(gva, 8, user);
            String ctx = "seed " + seed + " step " + step + " page " + page + " kind " + kind + " user " + user
                    + " pte 0x" + Long.toHexString(l);
            assertEquals(!fault, ok, ctx);
            if (fault) {
                int expected = ((l & P) != 0 ? 1 : 0) | (kind == 1 ? 2 : 0) | (user ? 4 : 0) | (kind == 2 ? 16 : 0);
                assertEquals(expected, cpu.errorCode(), ctx);
                continue;
            }
            assertEquals(((0x300L + page) << 12) + 8L * word, cpu.gpa(), ctx);
            if (kind == 1) {
                model[page * 512 + word] = v;
            } else {
                assertEquals(model[page * 512 + word], cpu.value(), ctx);
            }
        }
    }
}
