package org.shadowbox.gpu.internal;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/**
 * A bare-metal vCPU that traps like a hypervisor: a write to a write-tracked gfn goes through
 * the emulator ({@code emulator_write_phys}, which notifies page track) instead of memory. It is
 * the MMU's contract reduced to what the GPU tracker needs, so the gpu-driver scenario can run
 * in a plain unit test; the in-framework test runs it on the real MMU.
 */
final class TrappingCpu implements GuestCpu {
    private final BareMetalCpu cpu;
    private final PageTrack track;
    private boolean emulated;

    TrappingCpu(Vcpu vcpu, PageTrack track) {
        this.cpu = new BareMetalCpu(vcpu);
        this.track = track;
    }

    @Override
    public Vcpu vcpu() {
        return cpu.vcpu();
    }

    @Override
    public boolean read(long gva, int size, boolean user) {
        emulated = false;
        return cpu.read(gva, size, user);
    }

    @Override
    public boolean write(long gva, long value, int size, boolean user) {
        emulated = false;
        if (!cpu.read(gva, size, user)) { // translate (and fault) as the write would
            return cpu.write(gva, value, size, user);
        }
        long gpa = cpu.gpa();
        if ((gpa & 4095) + size <= 4096 && track.isActive(cpu.vcpu().vm(), gpa >>> 12, TrackMode.WRITE)) {
            emulated = true;
            cpu.vcpu().emulatorWritePhys(gpa, value, size);
            return true;
        }
        return cpu.write(gva, value, size, user);
    }

    @Override
    public boolean fetch(long gva, int size, boolean user) {
        emulated = false;
        return cpu.fetch(gva, size, user);
    }

    @Override
    public long value() {
        return cpu.value();
    }

    @Override
    public int exception() {
        return cpu.exception();
    }

    @Override
    public int errorCode() {
        return cpu.errorCode();
    }

    @Override
    public long gpa() {
        return cpu.gpa();
    }

    @Override
    public boolean emulated() {
        return emulated;
    }

    @Override
    public void writeRegister(Register r, long value) {
        cpu.writeRegister(r, value);
    }

    @Override
    public void invlpg(long gva) {
        cpu.invlpg(gva);
    }

    @Override
    public void retire(long accesses, boolean user) {
        cpu.retire(accesses, user);
    }
}
