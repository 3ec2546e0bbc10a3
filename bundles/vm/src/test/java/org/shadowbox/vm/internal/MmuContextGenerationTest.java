package org.shadowbox.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.spi.Platform;
import org.shadowbox.vm.spi.PlatformVcpu;

/**
 * {@link PlatformVcpu#mmuContextGeneration}: one count per write that changed CR0, CR3, CR4 or
 * EFER, nothing for any other write, a write of the same value or a refused one; the MMUs'
 * TLB-hit paths trust it instead of reading the four registers.
 */
class MmuContextGenerationTest {
    private final HypervisorImpl hv = new HypervisorImpl();

    private PlatformVcpu vcpu(String paging) {
        Vm vm = hv.createVm(VmSpec.pc("t" + hv.vms().size(), 64L << 20, 1).with(VmSpec.PAGING, paging));
        return Platform.vcpu(vm.vcpu(0));
    }

    private static long[] context(PlatformVcpu c) {
        return new long[] {c.get(Register.CR0), c.get(Register.CR3), c.get(Register.CR4), c.get(Register.EFER)};
    }

    @Test
    void countsEveryChangeOfTheFourAndNothingElse() {
        PlatformVcpu c = vcpu("64");
        long g = c.mmuContextGeneration();
        c.set(Register.CR3, 0x5000);
        assertEquals(g + 1, c.mmuContextGeneration(), "a CR3 change");
        c.set(Register.CR3, 0x5000);
        assertEquals(g + 1, c.mmuContextGeneration(), "the same CR3 again changes nothing");
        c.set(Register.CR2, 0x1234);
        c.set(Register.RFLAGS, c.get(Register.RFLAGS) | Register.RFLAGS_AC);
        assertEquals(g + 1, c.mmuContextGeneration(), "CR2 and RFLAGS are not part of the context");
        c.set(Register.CR4, c.get(Register.CR4) | Register.CR4_SMEP);
        assertEquals(g + 2, c.mmuContextGeneration(), "a CR4 change");
        assertThrows(VmException.class, () -> c.set(Register.CR0, 0));
        assertEquals(g + 2, c.mmuContextGeneration(), "a refused write changes nothing");
        c.reset();
        assertEquals(g + 3, c.mmuContextGeneration(), "INIT changes the paging mode");
        c.reset();
        assertEquals(g + 3, c.mmuContextGeneration(), "a second INIT changes nothing");
    }

    @Test
    void aCr0WriteThatEntersLongModeCountsOnce() {
        PlatformVcpu c = vcpu("off");
        c.set(Register.CR4, Register.CR4_PAE);
        c.set(Register.EFER, Register.EFER_LME);
        long g = c.mmuContextGeneration();
        c.set(Register.CR0, Register.CR0_PG | Register.CR0_PE);
        assertEquals(Register.EFER_LMA, c.get(Register.EFER) & Register.EFER_LMA, "CR0.PG with EFER.LME sets EFER.LMA");
        assertEquals(g + 1, c.mmuContextGeneration());
    }

    /** Random writes, good and bad: the count rises exactly when one of the four differs afterwards. */
    @Test
    void randomWritesMoveTheCountExactlyWhenTheContextChanged() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        Register[] regs = {Register.CR0, Register.CR2, Register.CR3, Register.CR4, Register.EFER, Register.RFLAGS};
        long[] values = {0, 0x11, 0x8000_0011L, 0x8001_0031L, 0x6000_0010L, Register.CR4_PAE, Register.CR4_PSE,
                Register.EFER_LME, Register.EFER_NXE, 0x2, 0x1000, 0x5000, 0x40002};
        PlatformVcpu c = vcpu("off");
        for (int step = 0; step < 2000; step++) {
            long[] before = context(c);
            long g = c.mmuContextGeneration();
            String what;
            if (rnd.nextInt(50) == 0) {
                what = "reset";
                c.reset();
            } else {
                Register r = regs[rnd.nextInt(regs.length)];
                long v = values[rnd.nextInt(values.length)];
                what = r + " = 0x" + Long.toHexString(v);
                try {
                    c.set(r, v);
                } catch (VmException refused) {
                    what += " (refused)";
                }
            }
            long expected = java.util.Arrays.equals(before, context(c)) ? g : g + 1;
            assertEquals(expected, c.mmuContextGeneration(), "seed " + seed + ", step " + step + ": " + what);
        }
    }
}
