package org.shadowbox.mmu.reference;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.GuestWalker;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VmException;

/**
 * A vCPU on bare metal: each access is translated by the architectural walk of the guest's
 * tables in guest memory (KVM's {@code FNAME(walk_addr_generic)} without any shadow), every
 * time, since this processor has no TLB; a successful walk sets A at every level and D on the
 * leaf of a write; a failed one is the guest's page fault, with CR2 set. An access that
 * crosses a page is two pieces, both translated before any byte is stored, as the processor
 * does. Nothing is emulated and no page-track notifier hears of anything: memory is written
 * host-side.
 *
 * <p>Two flavours. {@link #BareMetalCpu(Vcpu)} runs on the vCPU's own registers (what a
 * guest runs on). {@link #inspector(Vcpu)} copies the vCPU's registers into its own and never
 * sets A/D bits or CR2: a probe that reads the guest's view without disturbing the vCPU or
 * the tables (for verifying a guest that ran on another MMU).
 *
 * <p>Allocation-free per access. One thread at a time.
 */
public final class BareMetalCpu implements GuestCpu {
    private final Vcpu vcpu;
    private final GuestMemory mem;
    private final int maxPhyAddr;
    /** True: registers live here (an inspector); false: they are the vCPU's. */
    private final boolean ownRegisters;
    private final boolean setAccessedDirty;
    private long cr0;
    private long cr3;
    private long cr4;
    private long efer;
    private long rflags;

    private final GuestWalk walk = new GuestWalk();
    private long value;
    private int exception;
    private int errorCode;
    private long gpa;
    private long accesses;
    private long pageFaults;
    private long invlpgs;

    /** A bare-metal processor running on {@code vcpu}'s registers. */
    public BareMetalCpu(Vcpu vcpu) {
        this(vcpu, false, true);
    }

    private BareMetalCpu(Vcpu vcpu, boolean ownRegisters, boolean setAccessedDirty) {
        this.vcpu = vcpu;
        this.mem = vcpu.vm().memory();
        this.maxPhyAddr = vcpu.vm().maxPhyAddr();
        this.ownRegisters = ownRegisters;
        this.setAccessedDirty = setAccessedDirty;
        if (ownRegisters) {
            cr0 = vcpu.get(Register.CR0);
            cr3 = vcpu.get(Register.CR3);
            cr4 = vcpu.get(Register.CR4);
            efer = vcpu.get(Register.EFER);
            rflags = vcpu.get(Register.RFLAGS);
        }
    }

    /**
     * A probe with its own copy of {@code vcpu}'s registers (change them with
     * {@link #writeRegister}, which then leaves the vCPU alone) that sets no accessed or dirty
     * bit and no CR2: reading through it changes nothing in the guest.
     */
    public static BareMetalCpu inspector(Vcpu vcpu) {
        return new BareMetalCpu(vcpu, true, false);
    }

    @Override
    public Vcpu vcpu() {
        return vcpu;
    }

    @Override
    public boolean read(long gva, int size, boolean user) {
        return access(gva, 0, size, user ? Pfec.USER : 0);
    }

    @Override
    public boolean write(long gva, long v, int size, boolean user) {
        return access(gva, v, size, Pfec.WRITE | (user ? Pfec.USER : 0));
    }

    @Override
    public boolean fetch(long gva, int size, boolean user) {
        return access(gva, 0, size, Pfec.FETCH | (user ? Pfec.USER : 0));
    }

    /** Aggregated TLB hits: counted in {@link #accesses()}, nothing else (bare metal has no exits to meter). */
    @Override
    public void retire(long n, boolean user) {
        if (n < 0) {
            throw new IllegalArgumentException("accesses " + n + " < 0");
        }
        accesses += n;
    }

    private boolean access(long gva, long v, int size, int acc) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new VmException("bad access size " + size + ": accepted 1, 2, 4 or 8 bytes");
        }
        accesses++;
        exception = NO_EXCEPTION;
        errorCode = 0;
        int first = 4096 - (int) (gva & 4095);
        if (size <= first) {
            if (!translate(gva, acc)) {
                return false;
            }
            gpa = walk.gpa;
            if ((acc & Pfec.WRITE) != 0) {
                mem.write(gpa, v, size);
                value = size == 8 ? v : v & ((1L << (8 * size)) - 1);
            } else {
                value = mem.read(gpa, size);
            }
            return true;
        }
        // Crosses a page: both pieces translate before anything is stored.
        long second = gva + first;
        if (!translate(second, acc)) {
            return false;
        }
        long gpa2 = walk.gpa;
        if (!translate(gva, acc)) {
            return false;
        }
        gpa = walk.gpa;
        if ((acc & Pfec.WRITE) != 0) {
            long x = v;
            for (int i = 0; i < size; i++) {
                mem.write(i < first ? gpa + i : gpa2 + i - first, x & 0xff, 1);
                x >>>= 8;
            }
            value = size == 8 ? v : v & ((1L << (8 * size)) - 1);
        } else {
            long x = 0;
            for (int i = 0; i < size; i++) {
                x |= mem.read(i < first ? gpa + i : gpa2 + i - first, 1) << (8 * i);
            }
            value = x;
        }
        return true;
    }

    /** One walk; on failure records the exception (and CR2, unless an inspector). */
    private boolean translate(long gva, int acc) {
        boolean ok;
        if (ownRegisters) {
            ok = GuestWalker.walk(walk, mem, maxPhyAddr, cr0, cr3, cr4, efer, rflags, gva, acc, setAccessedDirty);
        } else {
            ok = GuestWalker.walk(walk, mem, maxPhyAddr, vcpu.get(Register.CR0), vcpu.get(Register.CR3),
                    vcpu.get(Register.CR4), vcpu.get(Register.EFER), vcpu.get(Register.RFLAGS), gva, acc,
                    setAccessedDirty);
        }
        if (ok) {
            return true;
        }
        exception = walk.exception;
        errorCode = walk.errorCode;
        if (exception == PAGE_FAULT) {
            pageFaults++;
            if (!ownRegisters) {
                vcpu.set(Register.CR2, gva);
            }
        }
        return false;
    }

    @Override
    public long value() {
        return value;
    }

    @Override
    public int exception() {
        return exception;
    }

    @Override
    public int errorCode() {
        return errorCode;
    }

    @Override
    public long gpa() {
        return gpa;
    }

    /** Always false: there is no hypervisor to emulate anything. */
    @Override
    public boolean emulated() {
        return false;
    }

    @Override
    public void writeRegister(Register r, long v) {
        if (!ownRegisters) {
            vcpu.set(r, v);
            return;
        }
        switch (r) {
            case CR0 -> cr0 = v;
            case CR3 -> cr3 = v;
            case CR4 -> cr4 = v;
            case EFER -> efer = v;
            case RFLAGS -> rflags = v;
            default -> { } // CR2 is an output of the walk, which an inspector does not keep
        }
    }

    /** {@code invlpg}: there is no TLB, so there is nothing to drop; counted. */
    @Override
    public void invlpg(long gva) {
        invlpgs++;
    }

    /** Accesses tried (completed or faulted). */
    public long accesses() {
        return accesses;
    }

    /** Accesses that ended in a guest page fault. */
    public long pageFaults() {
        return pageFaults;
    }

    /** INVLPGs executed. */
    public long invlpgs() {
        return invlpgs;
    }

    @Override
    public String toString() {
        return "bare-metal vCPU " + vcpu.id() + (ownRegisters ? " (inspector)" : "");
    }
}
