package org.shadowbox.guest.internal;

import org.shadowbox.guest.internal.kernel.ForwardingCpu;
import org.shadowbox.mmu.GuestCpu;

/** A broken MMU for tests: every {@code period}-th user write reports success but stores nothing. */
final class LossyCpu extends ForwardingCpu {
    private final GuestCpu cpu;
    private final int period;
    private long userWrites;

    LossyCpu(GuestCpu cpu, int period) {
        super(cpu);
        this.cpu = cpu;
        this.period = period;
    }

    @Override
    public boolean write(long gva, long value, int size, boolean user) {
        if (user && ++userWrites % period == 0 && cpu.read(gva, size, user)) {
            return true; // translated (so gpa() is right) but the store is lost
        }
        return cpu.write(gva, value, size, user);
    }
}
