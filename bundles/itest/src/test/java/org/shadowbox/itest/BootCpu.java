package org.shadowbox.itest;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;

/**
 * A vCPU for scenario runs in the framework: the {@link Mmu} service's {@link GuestCpu} once
 * the guest has paging on, and before that (the guest kernel's boot, which clears its first
 * pages with paging off) a bare-metal vCPU that still traps writes to write-tracked pages
 * through the emulator, as KVM's nonpaging MMU would. The shadow MMU on main refuses accesses
 * with CR0.PG clear; this lets the tests run the guest model on the real MMU meanwhile.
 */
final class BootCpu implements GuestCpu {
    private final GuestCpu mmuCpu;
    private final BareMetalCpu bare;
    private final PageTrack pageTrack;
    private GuestCpu current;
    private boolean emulated;

    BootCpu(Mmu mmu, PageTrack pageTrack, Vm vm, int vcpu) {
        this.mmuCpu = mmu.cpu(vm, vcpu);
        this.bare = new BareMetalCpu(vm.vcpu(vcpu));
        this.pageTrack = pageTrack;
        this.current = paging() ? mmuCpu : bare;
    }

    private boolean paging() {
        return (bare.vcpu().get(Register.CR0) & Register.CR0_PG) != 0;
    }

    @Override
    public org.shadowbox.vm.Vcpu vcpu() {
        return bare.vcpu();
    }

    @Override
    public boolean read(long gva, int size, boolean user) {
        emulated = false;
        return current.read(gva, size, user);
    }

    @Override
    public boolean write(long gva, long value, int size, boolean user) {
        if (current == mmuCpu) {
            return mmuCpu.write(gva, value, size, user);
        }
        emulated = false;
        if (bare.read(gva, size, user)) {
            long gpa = bare.gpa();
            if ((gpa & 4095) + size <= 4096 && pageTrack.isActive(bare.vcpu().vm(), gpa >>> 12, TrackMode.WRITE)) {
                emulated = true;
                bare.vcpu().emulatorWritePhys(gpa, value, size);
                return true;
            }
        }
        return bare.write(gva, value, size, user);
    }

    @Override
    public boolean fetch(long gva, int size, boolean user) {
        emulated = false;
        return current.fetch(gva, size, user);
    }

    @Override
    public long value() {
        return current.value();
    }

    @Override
    public int exception() {
        return current.exception();
    }

    @Override
    public int errorCode() {
        return current.errorCode();
    }

    @Override
    public long gpa() {
        return current.gpa();
    }

    @Override
    public boolean emulated() {
        return current == mmuCpu ? mmuCpu.emulated() : emulated;
    }

    @Override
    public void writeRegister(Register r, long value) {
        boolean pagingAfter = r == Register.CR0 ? (value & Register.CR0_PG) != 0 : paging();
        if (pagingAfter) {
            mmuCpu.writeRegister(r, value);
            current = mmuCpu;
        } else {
            bare.writeRegister(r, value);
            current = bare;
        }
    }

    @Override
    public void invlpg(long gva) {
        current.invlpg(gva);
    }
}
