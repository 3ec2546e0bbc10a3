package org.shadowbox.shell.internal;

import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VmSpec;

/**
 * The x86 control bits the MMU depends on, by name, for {@code cpu:show}, {@code cpu:set} and
 * the {@code mmu:} commands: the paging mode the registers select and the page-fault error code.
 */
final class Registers {
    private static final String[] CR0 = bitNames(0, "PE", 1, "MP", 2, "EM", 3, "TS", 4, "ET", 5, "NE", 16, "WP",
            18, "AM", 29, "NW", 30, "CD", 31, "PG");
    private static final String[] CR4 = bitNames(4, "PSE", 5, "PAE", 7, "PGE", 17, "PCIDE", 20, "SMEP", 21, "SMAP",
            22, "PKE");
    private static final String[] EFER = bitNames(0, "SCE", 8, "LME", 10, "LMA", 11, "NXE");
    private static final String[] RFLAGS = bitNames(9, "IF", 18, "AC");
    /** Page-fault error code bits 0 to 5 (KVM's PFERR_*_MASK). */
    private static final String[] PFEC = {"P", "W", "U", "RSVD", "I/D", "PK"};

    private Registers() {
    }

    private static String[] bitNames(Object... pairs) {
        String[] names = new String[64];
        for (int i = 0; i < pairs.length; i += 2) {
            names[(Integer) pairs[i]] = (String) pairs[i + 1];
        }
        return names;
    }

    /**
     * The paging mode the registers select, with {@code vm:create --paging} names: "off"
     * (CR0.PG clear), "64" (EFER.LMA), "pae" (CR4.PAE) or "32".
     */
    static String paging(Vcpu cpu) {
        if ((cpu.get(Register.CR0) & Register.CR0_PG) == 0) {
            return "off";
        }
        if ((cpu.get(Register.EFER) & Register.EFER_LMA) != 0) {
            return "64";
        }
        return (cpu.get(Register.CR4) & Register.CR4_PAE) != 0 ? "pae" : "32";
    }

    /** "cr0 PE|ET|WP|PG; cr4 PAE; efer LME|LMA|NXE; rflags -": the named bits that are set. */
    static String flags(Vcpu cpu) {
        return "cr0 " + names(cpu.get(Register.CR0), CR0) + "; cr4 " + names(cpu.get(Register.CR4), CR4) + "; efer "
                + names(cpu.get(Register.EFER), EFER) + "; rflags " + names(cpu.get(Register.RFLAGS), RFLAGS);
    }

    /** A page-fault error code by its bits' names: "P|W|U", or "0". */
    static String errorBits(long errorCode) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < PFEC.length; i++) {
            if ((errorCode & (1L << i)) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(PFEC[i]);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }

    private static String names(long value, String[] names) {
        StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < 64; bit++) {
            if (names[bit] != null && (value & (1L << bit)) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(names[bit]);
            }
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }

    /** What writing {@code r} through the MMU does, said before the write (the mode it is made in). */
    static String viaMmu(Register r, Vcpu cpu) {
        boolean tdp = VmSpec.MMU_TDP.equals(cpu.vm().spec().option(VmSpec.MMU));
        switch (r) {
            case CR3:
                if (tdp) {
                    return "mmu: no exit under TDP (the guest loads CR3 itself; its TLB is flushed)";
                }
                return switch (paging(cpu)) {
                    case "64" -> "mmu: kvm_set_cr3 (the new root is loaded or found in the root cache, TLB flushed)";
                    case "pae" -> "mmu: kvm_set_cr3 (the PDPTEs are loaded into the PAE root, TLB flushed)";
                    case "32" -> "mmu: kvm_set_cr3 (the new root is loaded, TLB flushed)";
                    default -> "mmu: kvm_set_cr3 (paging off: the identity map's direct roots are got again, TLB flushed)";
                };
            case CR0:
            case CR4:
            case EFER:
                return tdp ? "mmu: stored; no exit under TDP (a paging-mode change flushes the vCPU's TLB at its next"
                        + " access)" : "mmu: stored; the MMU context is reset at the vCPU's next access"
                        + " (kvm_mmu_reset_context)";
            default:
                return "mmu: stored";
        }
    }
}
