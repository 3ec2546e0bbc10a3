package org.shadowbox.run.internal;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * A vCPU of the MMU that also runs the guest while its paging is off. The guest model boots
 * with paging off (clearing its zero page, building the kernel's tables at physical addresses)
 * and then turns paging on. KVM serves a paging-off guest with its non-paging MMU: an identity
 * map, in which a write to a write-tracked gfn is emulated and reaches page track. The shadow
 * MMU here does not model that mode and refuses such accesses, so while CR0.PG is clear this
 * class does what the identity map amounts to: the gva (truncated to 32 bits) is the gpa, a
 * read reads guest memory, and a write goes through the emulator
 * ({@link Vcpu#emulatorWritePhys}), so that page track and the MMU's notifier hear it and no
 * shadow page can go stale. With paging on, every access goes to the MMU's vCPU. Register
 * writes always go to the MMU's vCPU (CR0 is watched here). Nothing is charged for paging-off
 * accesses: a few thousand at boot, once per run.
 */
final class BootCpu implements GuestCpu {
    private final GuestCpu mmu;
    private final Vcpu vcpu;
    private final GuestMemory mem;
    private boolean paging;
    /** The last access was served here (paging off), not by the MMU. */
    private boolean mine;
    private long value;
    private long gpa;

    BootCpu(GuestCpu mmu) {
        this.mmu = mmu;
        this.vcpu = mmu.vcpu();
        this.mem = vcpu.vm().memory();
        this.paging = (vcpu.get(Register.CR0) & Register.CR0_PG) != 0;
    }

    @Override
    public Vcpu vcpu() {
        return vcpu;
    }

    @Override
    public boolean read(long gva, int size, boolean user) {
        if (paging) {
            mine = false;
            return mmu.read(gva, size, user);
        }
        return physical(gva, size, false, 0);
    }

    @Override
    public boolean write(long gva, long v, int size, boolean user) {
        if (paging) {
            mine = false;
            return mmu.write(gva, v, size, user);
        }
        return physical(gva, size, true, v);
    }

    @Override
    public boolean fetch(long gva, int size, boolean user) {
        if (paging) {
            mine = false;
            return mmu.fetch(gva, size, user);
        }
        return physical(gva, size, false, 0);
    }

    private boolean physical(long gva, int size, boolean write, long v) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new org.shadowbox.vm.VmException("bad access size " + size + ": accepted 1, 2, 4 or 8 bytes");
        }
        mine = true;
        gpa = gva & 0xffff_ffffL;
        if (write) {
            vcpu.emulatorWritePhys(gpa, v, size);
            value = size == 8 ? v : v & ((1L << (8 * size)) - 1);
        } else if ((gpa & 4095) + size <= 4096) {
            value = mem.read(gpa, size);
        } else {
            long x = 0;
            for (int i = 0; i < size; i++) {
                x |= mem.read((gpa + i) & 0xffff_ffffL, 1) << (8 * i);
            }
            value = x;
        }
        return true;
    }

    @Override
    public long value() {
        return mine ? value : mmu.value();
    }

    @Override
    public int exception() {
        return mine ? NO_EXCEPTION : mmu.exception();
    }

    @Override
    public int errorCode() {
        return mine ? 0 : mmu.errorCode();
    }

    @Override
    public long gpa() {
        return mine ? gpa : mmu.gpa();
    }

    @Override
    public boolean emulated() {
        return mine || mmu.emulated();
    }

    @Override
    public void writeRegister(Register r, long v) {
        mmu.writeRegister(r, v);
        if (r == Register.CR0) {
            paging = (v & Register.CR0_PG) != 0;
        }
    }

    @Override
    public void invlpg(long gva) {
        if (paging) {
            mmu.invlpg(gva);
        }
    }
}
