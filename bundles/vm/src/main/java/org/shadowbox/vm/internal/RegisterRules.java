package org.shadowbox.vm.internal;

import static org.shadowbox.vm.Register.CR0_PE;
import static org.shadowbox.vm.Register.CR0_PG;
import static org.shadowbox.vm.Register.CR4_PAE;
import static org.shadowbox.vm.Register.EFER_LMA;
import static org.shadowbox.vm.Register.EFER_LME;

import org.shadowbox.vm.Register;
import org.shadowbox.vm.VmException;

/**
 * x86's rules for a write to CR0, CR3, CR4, EFER and RFLAGS, as KVM applies them to a guest's
 * {@code mov to CR}/{@code wrmsr}: {@code kvm_set_cr0}, {@code kvm_set_cr3}, {@code kvm_set_cr4},
 * {@code set_efer}, and VM entry's RFLAGS check. A refused write is a {@link VmException} of
 * one line naming the #GP condition; it changes nothing. An accepted write may change more
 * than its register, as the processor does: CR0.PG set with EFER.LME enters long mode
 * (EFER.LMA = 1), CR0.ET always reads 1, reserved CR0 bits 5-28 are ignored, and EFER.LMA
 * is read-only to software.
 *
 * <p>The sandbox's CPU: no 5-level paging (CR4.LA57), no VMX/SMX in the guest, no CET or
 * PKS; EFER has SCE, LME, LMA and NXE. There is no CS register: long mode (EFER.LMA) counts
 * as 64-bit mode ({@code is_64_bit_mode}).
 */
final class RegisterRules {
    static final long CR0_ET = 1L << 4;
    static final long CR0_NW = 1L << 29;
    static final long CR0_CD = 1L << 30;
    /** PE MP EM TS ET NE, WP, AM, NW CD PG: what CR0 keeps of a write (the rest of bits 31:0 is ignored). */
    static final long CR0_KEPT = 0x3fL | (1L << 16) | (1L << 18) | CR0_NW | CR0_CD | CR0_PG;
    static final long CR4_PCIDE = 1L << 17;
    /** VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP, FSGSBASE PCIDE OSXSAVE, SMEP SMAP PKE. */
    static final long CR4_KNOWN = 0xfffL | (1L << 16) | CR4_PCIDE | (1L << 18) | (1L << 20) | (1L << 21) | (1L << 22);
    static final long EFER_SCE = 1L;
    static final long EFER_KNOWN = EFER_SCE | EFER_LME | EFER_LMA | Register.EFER_NXE;
    /** CF, 1, PF, AF, ZF SF TF IF DF OF, IOPL, NT, RF VM AC VIF VIP ID. */
    static final long RFLAGS_KNOWN = 0x3f7fd7L;
    static final long RFLAGS_FIXED1 = 0x2L;

    private RegisterRules() {
    }

    /**
     * Checks the write of {@code value} to {@code r} against the current registers
     * {@code regs} (indexed by {@link Register#ordinal()}) and, if x86 accepts it, stores it
     * with its side effects; otherwise throws and stores nothing.
     */
    static void write(long[] regs, Register r, long value, int maxPhyAddr) {
        switch (r) {
            case CR0 -> cr0(regs, value);
            case CR3 -> cr3(regs, value, maxPhyAddr);
            case CR4 -> cr4(regs, value);
            case EFER -> efer(regs, value);
            case RFLAGS -> rflags(regs, value);
            default -> regs[r.ordinal()] = value; // CR2: any address
        }
    }

    /** {@code kvm_set_cr0}: {@code kvm_is_valid_cr0}, the long-mode checks, then {@code enter_lmode}. */
    private static void cr0(long[] regs, long cr0) {
        long efer = regs[Register.EFER.ordinal()];
        long old = regs[Register.CR0.ordinal()];
        if ((cr0 >>> 32) != 0) {
            throw gp("CR0 bits 63:32 are reserved", "CR0", cr0, "a 32-bit value");
        }
        if ((cr0 & CR0_NW) != 0 && (cr0 & CR0_CD) == 0) {
            throw gp("CR0.NW set without CR0.CD", "CR0", cr0, "NW only with CD");
        }
        if ((cr0 & CR0_PG) != 0 && (cr0 & CR0_PE) == 0) {
            throw gp("CR0.PG set without CR0.PE", "CR0", cr0, "PG only with PE");
        }
        boolean pagingOn = (old & CR0_PG) == 0 && (cr0 & CR0_PG) != 0;
        if (pagingOn && (efer & EFER_LME) != 0 && (regs[Register.CR4.ordinal()] & CR4_PAE) == 0) {
            throw gp("CR0.PG set with EFER.LME but without CR4.PAE", "CR0", cr0, "long mode needs CR4.PAE first");
        }
        if ((cr0 & CR0_PG) == 0 && (efer & EFER_LMA) != 0) {
            throw gp("CR0.PG cleared in 64-bit mode (EFER.LMA=1)", "CR0", cr0, "PG kept set in long mode");
        }
        regs[Register.CR0.ordinal()] = (cr0 & CR0_KEPT) | CR0_ET;
        if (pagingOn && (efer & EFER_LME) != 0) {
            regs[Register.EFER.ordinal()] = efer | EFER_LMA; // enter_lmode
        }
    }

    /** {@code kvm_set_cr3}: a CR3 with bits at or above MAXPHYADDR set is illegal. */
    private static void cr3(long[] regs, long cr3, int maxPhyAddr) {
        if ((cr3 >>> maxPhyAddr) != 0) {
            throw new VmException("#GP: CR3 0x" + Long.toHexString(cr3) + " sets bits above MAXPHYADDR " + maxPhyAddr
                    + " (kvm_set_cr3: reserved): accepted below 0x" + Long.toHexString(1L << maxPhyAddr));
        }
        regs[Register.CR3.ordinal()] = cr3;
    }

    /** {@code kvm_set_cr4}: {@code kvm_is_valid_cr4} (reserved bits), then the long-mode and PCIDE checks. */
    private static void cr4(long[] regs, long cr4) {
        long reserved = cr4 & ~CR4_KNOWN;
        if (reserved != 0) {
            throw gp("CR4 bit " + Long.numberOfTrailingZeros(reserved) + " is reserved on this CPU", "CR4", cr4,
                    "bits of 0x" + Long.toHexString(CR4_KNOWN));
        }
        boolean longMode = (regs[Register.EFER.ordinal()] & EFER_LMA) != 0;
        if (longMode && (cr4 & CR4_PAE) == 0) {
            throw gp("CR4.PAE cleared in long mode", "CR4", cr4, "PAE kept set while EFER.LMA=1");
        }
        long old = regs[Register.CR4.ordinal()];
        if ((cr4 & CR4_PCIDE) != 0 && (old & CR4_PCIDE) == 0
                && (!longMode || (regs[Register.CR3.ordinal()] & 0xfff) != 0)) {
            throw gp("CR4.PCIDE set outside long mode or with CR3[11:0] != 0", "CR4", cr4,
                    "PCIDE only in long mode with CR3[11:0] = 0");
        }
        regs[Register.CR4.ordinal()] = cr4;
    }

    /** {@code set_efer}: reserved bits, LME changed while paging; LMA is the processor's. */
    private static void efer(long[] regs, long efer) {
        long reserved = efer & ~EFER_KNOWN;
        if (reserved != 0) {
            throw gp("EFER bit " + Long.numberOfTrailingZeros(reserved) + " is reserved on this CPU", "EFER", efer,
                    "SCE (0), LME (8), LMA (10), NXE (11)");
        }
        long old = regs[Register.EFER.ordinal()];
        if ((regs[Register.CR0.ordinal()] & CR0_PG) != 0 && ((old ^ efer) & EFER_LME) != 0) {
            throw gp("EFER.LME changed while CR0.PG=1", "EFER", efer, "LME changed only with paging off");
        }
        regs[Register.EFER.ordinal()] = (efer & ~EFER_LMA) | (old & EFER_LMA);
    }

    /** VM entry's RFLAGS check: reserved bits clear, bit 1 set. */
    private static void rflags(long[] regs, long rflags) {
        long reserved = rflags & ~RFLAGS_KNOWN;
        if (reserved != 0) {
            throw new VmException("#GP: RFLAGS bit " + Long.numberOfTrailingZeros(reserved) + " is reserved (VM entry"
                    + " refuses it): RFLAGS 0x" + Long.toHexString(rflags) + ", accepted bits of 0x"
                    + Long.toHexString(RFLAGS_KNOWN) + " with bit 1 set");
        }
        if ((rflags & RFLAGS_FIXED1) == 0) {
            throw new VmException("#GP: RFLAGS bit 1 is reserved and must be 1 (VM entry refuses it): RFLAGS 0x"
                    + Long.toHexString(rflags) + ", accepted with bit 1 set (0x2)");
        }
        regs[Register.RFLAGS.ordinal()] = rflags;
    }

    private static VmException gp(String rule, String reg, long value, String accepted) {
        String fn = reg.equals("EFER") ? "set_efer" : "kvm_set_" + reg.toLowerCase(java.util.Locale.ROOT);
        return new VmException("#GP: " + rule + " (" + fn + "): " + reg + " 0x" + Long.toHexString(value)
                + " refused, accepted " + accepted);
    }
}
