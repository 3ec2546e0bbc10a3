package org.shadowbox.guest.internal.kernel;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;

/** A GuestCpu passing everything to another (tests override what they watch). */
public class ForwardingCpu implements GuestCpu {
    private final GuestCpu cpu;

    public ForwardingCpu(GuestCpu cpu) {
        this.cpu = cpu;
    }

    @Override
    public Vcpu vcpu() {
        return cpu.vcpu();
    }

    @Override
    public boolean read(long gva, int size, boolean user) {
        return cpu.read(gva, size, user);
    }

    @Override
    public boolean write(long gva, long value, int size, boolean user) {
        return cpu.write(gva, value, size, user);
    }

    @Override
    public boolean fetch(long gva, int size, boolean user) {
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
        return cpu.emulated();
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
