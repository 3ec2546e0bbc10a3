package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/** x86's control-register rules as KVM's kvm_set_cr0/cr3/cr4 and set_efer apply them: one line, nothing changed. */
class RegisterRulesTest {
    private final HypervisorImpl hv = new HypervisorImpl();

    /** One refused write: the paging mode the vCPU is in, the register, the value, the start of the line. */
    record Refusal(String paging, Register reg, long value, String line) {
    }

    static final List<Refusal> REFUSED = List.of(
            new Refusal("off", Register.CR0, 0x8000_0000L, "#GP: CR0.PG set without CR0.PE (kvm_set_cr0): CR0 0x80000000"),
            new Refusal("64", Register.CR0, 0x8000_0000L, "#GP: CR0.PG set without CR0.PE (kvm_set_cr0)"),
            new Refusal("64", Register.CR0, 0, "#GP: CR0.PG cleared in 64-bit mode (EFER.LMA=1) (kvm_set_cr0)"),
            new Refusal("64", Register.CR0, 0x11, "#GP: CR0.PG cleared in 64-bit mode (EFER.LMA=1)"),
            new Refusal("pae", Register.CR0, 0x2000_0011L, "#GP: CR0.NW set without CR0.CD (kvm_set_cr0)"),
            new Refusal("pae", Register.CR0, 0x1_8000_0011L, "#GP: CR0 bits 63:32 are reserved (kvm_set_cr0)"),
            new Refusal("64", Register.CR0, -1L, "#GP: CR0 bits 63:32 are reserved"),
            new Refusal("64", Register.CR4, -1L, "#GP: CR4 bit 12 is reserved on this CPU (kvm_set_cr4)"),
            new Refusal("64", Register.CR4, 1L << 15, "#GP: CR4 bit 15 is reserved on this CPU"),
            new Refusal("64", Register.CR4, Register.CR4_PSE, "#GP: CR4.PAE cleared in long mode (kvm_set_cr4)"),
            new Refusal("pae", Register.CR4, Register.CR4_PAE | (1L << 17), "#GP: CR4.PCIDE set outside long mode"),
            new Refusal("64", Register.EFER, -1L, "#GP: EFER bit 1 is reserved on this CPU (set_efer)"),
            new Refusal("64", Register.EFER, 1L << 12, "#GP: EFER bit 12 is reserved on this CPU"),
            new Refusal("64", Register.EFER, Register.EFER_NXE, "#GP: EFER.LME changed while CR0.PG=1 (set_efer)"),
            new Refusal("pae", Register.EFER, Register.EFER_LME | Register.EFER_NXE, "#GP: EFER.LME changed while CR0.PG=1"),
            new Refusal("64", Register.RFLAGS, -1L, "#GP: RFLAGS bit 3 is reserved (VM entry refuses it)"),
            new Refusal("64", Register.RFLAGS, 0, "#GP: RFLAGS bit 1 is reserved and must be 1"),
            new Refusal("64", Register.RFLAGS, 1L << 22, "#GP: RFLAGS bit 22 is reserved"),
            new Refusal("64", Register.CR3, 1L << 46, "#GP: CR3 0x400000000000 sets bits above MAXPHYADDR 46 (kvm_set_cr3"),
            new Refusal("64", Register.CR3, -1L, "#GP: CR3 0xffffffffffffffff sets bits above MAXPHYADDR 46"),
            new Refusal("off", Register.CR0, 0x8000_0001L | 0x10, "#GP"));

    private Vcpu vcpu(String paging) {
        Vm vm = hv.createVm(VmSpec.pc("t" + hv.vms().size(), 64L << 20, 1).with(VmSpec.PAGING, paging));
        return vm.vcpu(0);
    }

    private static long[] regs(Vcpu c) {
        long[] out = new long[Register.values().length];
        for (Register r : Register.values()) {
            out[r.ordinal()] = c.get(r);
        }
        return out;
    }

    @Test
    void everyRefusalIsOneLineNamingTheRuleAndChangesNothing() {
        for (Refusal f : REFUSED) {
            Vcpu c = vcpu(f.paging());
            if (f.line().equals("#GP")) {
                // From reset with EFER.LME set and CR4.PAE clear, paging on is refused (long mode needs PAE).
                c.set(Register.EFER, Register.EFER_LME);
            }
            long[] before = regs(c);
            VmException e = assertThrows(VmException.class, () -> c.set(f.reg(), f.value()), f.toString());
            assertEquals(true, e.getMessage().startsWith(f.line()), f + ": " + e.getMessage());
            assertEquals(false, e.getMessage().contains("\n"), f.toString());
            assertArrayEquals(before, regs(c), f + " changed the registers");
        }
    }

    @Test
    void enteringLongModeFromResetSetsLmaAndLmaIsNotWritable() {
        Vcpu c = vcpu("off");
        c.set(Register.CR0, Register.CR0_PE);
        c.set(Register.CR4, Register.CR4_PAE);
        c.set(Register.EFER, Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE);
        assertEquals(Register.EFER_LME | Register.EFER_NXE, c.get(Register.EFER), "LMA is the processor's");
        c.set(Register.CR0, Register.CR0_PG | Register.CR0_WP | Register.CR0_PE);
        assertEquals(Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE, c.get(Register.EFER), "enter_lmode");
        assertEquals(0x80010011L, c.get(Register.CR0), "CR0.ET reads 1");
        c.set(Register.CR0, 0x80010011L | (1L << 7)); // a reserved low bit: ignored, not refused
        assertEquals(0x80010011L, c.get(Register.CR0));
        c.reset();
        assertEquals(0x60000010L, c.get(Register.CR0));
        assertEquals(0, c.get(Register.EFER));
        assertEquals(2, c.get(Register.RFLAGS));
    }
}
