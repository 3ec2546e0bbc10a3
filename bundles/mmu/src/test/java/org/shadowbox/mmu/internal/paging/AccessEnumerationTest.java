package org.shadowbox.mmu.internal.paging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * In the manner of kvm-unit-tests' x86/access.c: every legal combination of PDE and PTE
 * bits (P, RW, US, A, D, PS, NX, a reserved bit), access type (read, write, fetch; user
 * or supervisor), EFER.NXE, CR0.WP, CR4.SMEP and CR4.SMAP with EFLAGS.AC, for each
 * paging mode, against {@link #expect}, a small model written from the architecture's
 * rules. A failure names the bits.
 */
class AccessEnumerationTest {
    // Flags of one entry, as the enumeration varies them.
    private static final int F_P = 1, F_RW = 2, F_US = 4, F_A = 8, F_D = 16, F_PS = 32, F_NX = 64, F_RSVD = 128;
    private static final String[] FLAG_NAMES = {"P", "RW", "US", "A", "D", "PS", "NX", "RSVD"};
    private static final int A_WRITE = 1, A_FETCH = 2, A_USER = 4;

    private static final long GVA = 0x0000_0000_4060_3123L; // low 4 GiB: valid in every mode
    private static final long TOP = 0x10000;      // the top table (PML4, PDPT or PD)
    private static final long MID1 = 0x11000;
    private static final long MID2 = 0x12000;
    private static final long PT = 0x13000;
    private static final long DATA = 0x21_5000;   // the 4 KiB page
    private static final long LARGE = 0x80_0000;  // the 2 MiB / 4 MiB page (4 MiB aligned)
    private static final long RSVD_BIT_64 = 1L << 51;
    private static final long RSVD_BIT_PSE = 1L << 21;

    private final GuestMemory mem;

    AccessEnumerationTest() {
        Vm vm = new HypervisorImpl().createVm(VmSpec.pc("access", 64L << 20, 1));
        mem = vm.memory();
    }

    /** What the architecture says, outcome as a string: "ok gpa=..." or "#PF <error code>". */
    static String expect(String mode, int pde, int pte, int access, boolean nxe, boolean wp, boolean smep,
            boolean smap, boolean ac) {
        boolean hasNx = !mode.equals("32");
        boolean effNxe = hasNx && nxe;
        boolean pae = !mode.equals("32");
        boolean write = (access & A_WRITE) != 0;
        boolean fetch = (access & A_FETCH) != 0;
        boolean user = (access & A_USER) != 0;
        int pfecAccess = (write ? Pfec.WRITE : 0) | (user ? Pfec.USER : 0)
                | (fetch && (smep || (pae && nxe)) ? Pfec.FETCH : 0);
        if ((pde & F_P) == 0) {
            return "#PF " + Pfec.describe(pfecAccess);
        }
        boolean large = (pde & F_PS) != 0;
        if ((pde & F_RSVD) != 0 || ((pde & F_NX) != 0 && !effNxe)) {
            return "#PF " + Pfec.describe(Pfec.PRESENT | Pfec.RSVD | pfecAccess);
        }
        int leafFlags = pde;
        if (!large) {
            if ((pte & F_P) == 0) {
                return "#PF " + Pfec.describe(pfecAccess);
            }
            if ((pte & F_RSVD) != 0 || ((pte & F_NX) != 0 && !effNxe)) {
                return "#PF " + Pfec.describe(Pfec.PRESENT | Pfec.RSVD | pfecAccess);
            }
            leafFlags = pte;
        }
        boolean u = (pde & F_US) != 0 && (large || (pte & F_US) != 0);
        boolean w = (pde & F_RW) != 0 && (large || (pte & F_RW) != 0);
        boolean x = !(effNxe && ((pde & F_NX) != 0 || (!large && (pte & F_NX) != 0)));
        boolean allowed;
        if (user) {
            allowed = u && (!write || w) && (!fetch || x);
        } else if (fetch) {
            allowed = x && !(smep && u);
        } else {
            allowed = !(smap && u && !ac) && (!write || w || !wp);
        }
        if (!allowed) {
            return "#PF " + Pfec.describe(Pfec.PRESENT | pfecAccess);
        }
        long pageSize = !large ? 4096 : mode.equals("32") ? 4L << 20 : 2L << 20;
        long frame = large ? LARGE : DATA;
        return "ok gpa=0x" + Long.toHexString(frame + (GVA & (pageSize - 1)))
                + (write ? " dirty" : "") + (leafFlags == 0 ? "" : "");
    }

    @ParameterizedTest(name = "{0}-bit paging")
    @ValueSource(strings = {"64", "pae", "32"})
    void everyCombinationMatchesTheArchitecture(String mode) {
        boolean is32 = mode.equals("32");
        int pdeFlagLimit = 256;
        int cases = 0;
        for (int pde = 0; pde < pdeFlagLimit; pde++) {
            if (!legal(mode, pde, true)) {
                continue;
            }
            for (int pte = 0; pte < 256; pte++) {
                if (!legal(mode, pte, false) || ((pde & F_PS) != 0 && pte != 0)) {
                    continue; // a large page has no PTE: enumerate it once
                }
                for (int access = 0; access < 8; access++) {
                    if ((access & A_WRITE) != 0 && (access & A_FETCH) != 0) {
                        continue;
                    }
                    for (int cr = 0; cr < 32; cr++) {
                        boolean nxe = (cr & 1) != 0;
                        boolean wp = (cr & 2) != 0;
                        boolean smep = (cr & 4) != 0;
                        boolean smap = (cr & 8) != 0;
                        boolean ac = (cr & 16) != 0;
                        if (ac && !smap) {
                            continue; // AC only matters with SMAP
                        }
                        check(mode, is32, pde, pte, access, nxe, wp, smep, smap, ac);
                        cases++;
                    }
                }
            }
        }
        // 64/PAE: (64 table PDEs x 128 PTEs + 128 large PDEs) x 6 accesses x 24 register settings;
        // 32-bit: (16 x 32 + 64) x 6 x 24. The count guards against a loop that skips everything.
        assertEquals(is32 ? 82_944 : 1_198_080, cases, "cases enumerated");
    }

    private static boolean legal(String mode, int flags, boolean pde) {
        if (!pde && (flags & F_PS) != 0) {
            return false; // PS has no meaning in a PTE: bit 7 is PAT there
        }
        if (pde && (flags & F_D) != 0 && (flags & F_PS) == 0) {
            return false; // D is ignored in a non-leaf PDE
        }
        if (mode.equals("32")) {
            if ((flags & F_NX) != 0) {
                return false; // 4-byte entries have no NX bit
            }
            if ((flags & F_RSVD) != 0 && !(pde && (flags & F_PS) != 0)) {
                return false; // only a 4 MiB PDE has a reserved bit (bit 21)
            }
        }
        return true;
    }

    private void check(String mode, boolean is32, int pde, int pte, int access, boolean nxe, boolean wp,
            boolean smep, boolean smap, boolean ac) {
        long cr0 = Register.CR0_PG | Register.CR0_PE | (wp ? Register.CR0_WP : 0);
        long cr4 = (smep ? Register.CR4_SMEP : 0) | (smap ? Register.CR4_SMAP : 0);
        long efer = nxe ? Register.EFER_NXE : 0;
        long cr3 = TOP;
        long pdeGpa;
        long pteGpa = PT + ((GVA >>> 12) & (is32 ? 1023 : 511)) * (is32 ? 4 : 8);
        long[] upper = new long[0];
        switch (mode) {
            case "64" -> {
                cr4 |= Register.CR4_PAE;
                efer |= Register.EFER_LME | Register.EFER_LMA;
                long pml4e = TOP + ((GVA >>> 39) & 511) * 8;
                long pdpte = MID1 + ((GVA >>> 30) & 511) * 8;
                mem.write(pml4e, MID1 | 0x7, 8);
                mem.write(pdpte, MID2 | 0x7, 8);
                upper = new long[] {pml4e, pdpte};
                pdeGpa = MID2 + ((GVA >>> 21) & 511) * 8;
            }
            case "pae" -> {
                cr4 |= Register.CR4_PAE;
                long pdpte = TOP + ((GVA >>> 30) & 3) * 8;
                mem.write(pdpte, MID2 | Pte.P, 8);
                pdeGpa = MID2 + ((GVA >>> 21) & 511) * 8;
            }
            default -> {
                cr4 |= Register.CR4_PSE;
                pdeGpa = TOP + ((GVA >>> 22) & 1023) * 4;
            }
        }
        long pdeValue = entry(pde, (pde & F_PS) != 0 ? LARGE : PT, is32 ? RSVD_BIT_PSE : RSVD_BIT_64);
        long pteValue = entry(pte, DATA, RSVD_BIT_64);
        int size = is32 ? 4 : 8;
        mem.write(pdeGpa, pdeValue, size);
        mem.write(pteGpa, pteValue, size);
        long rflags = ac ? Register.RFLAGS_AC : 0;
        int pfec = ((access & A_WRITE) != 0 ? Pfec.WRITE : 0) | ((access & A_FETCH) != 0 ? Pfec.FETCH : 0)
                | ((access & A_USER) != 0 ? Pfec.USER : 0);
        GuestWalk w = new GuestWalk();
        GuestWalker.walk(w, mem, 46, cr0, cr3, cr4, efer, rflags, GVA, pfec, true);
        String expected = expect(mode, pde, pte, access, nxe, wp, smep, smap, ac);
        String got = w.ok() ? "ok gpa=0x" + Long.toHexString(w.gpa) + ((access & A_WRITE) != 0 ? " dirty" : "")
                : w.exception == GuestWalk.PAGE_FAULT ? "#PF " + Pfec.describe(w.errorCode) : w.toString();
        String where = "mode " + mode + " pde " + flags(pde) + " pte " + flags(pte) + " access "
                + accessName(access) + " nxe=" + b(nxe) + " wp=" + b(wp) + " smep=" + b(smep) + " smap=" + b(smap)
                + " ac=" + b(ac);
        if (!expected.equals(got)) {
            fail(where + ": expected " + expected + ", got " + got);
        }
        // Accessed and dirty bits: set on every level of a successful walk, D on the leaf of a write.
        boolean large = (pde & F_PS) != 0;
        long wantPde = pdeValue;
        long wantPte = pteValue;
        if (w.ok()) {
            wantPde |= Pte.A | (large && (access & A_WRITE) != 0 ? Pte.D : 0);
            if (!large) {
                wantPte |= Pte.A | ((access & A_WRITE) != 0 ? Pte.D : 0);
            }
        }
        assertEquals(wantPde, mem.read(pdeGpa, size), where + ": PDE after the walk");
        assertEquals(wantPte, mem.read(pteGpa, size), where + ": PTE after the walk");
        for (long u : upper) {
            mem.write(u, 0, 8);
        }
    }

    private static long entry(int flags, long frame, long rsvdBit) {
        long e = frame;
        e |= (flags & F_P) != 0 ? Pte.P : 0;
        e |= (flags & F_RW) != 0 ? Pte.RW : 0;
        e |= (flags & F_US) != 0 ? Pte.US : 0;
        e |= (flags & F_A) != 0 ? Pte.A : 0;
        e |= (flags & F_D) != 0 ? Pte.D : 0;
        e |= (flags & F_PS) != 0 ? Pte.PS : 0;
        e |= (flags & F_NX) != 0 ? Pte.NX : 0;
        e |= (flags & F_RSVD) != 0 ? rsvdBit : 0;
        return e;
    }

    private static String flags(int f) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < FLAG_NAMES.length; i++) {
            if ((f & (1 << i)) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(FLAG_NAMES[i]);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }

    private static String accessName(int a) {
        return ((a & A_WRITE) != 0 ? "write" : (a & A_FETCH) != 0 ? "fetch" : "read") + ((a & A_USER) != 0 ? "|user" : "|supervisor");
    }

    private static String b(boolean v) {
        return v ? "1" : "0";
    }
}
