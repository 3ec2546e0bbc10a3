package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The TLB-hit fast case's counting, the same under both MMUs: a hit is counted once ({@link
 * ExitMeter#hit}), and that one count is read as an access of the hit's guest mode and as
 * {@code tlb_hit}, in the vCPU's and the VM's counters, exactly as the two counts it replaced; the
 * general path's own hits still count in the vCPU's counter block.
 */
public final class HitCounts {
    private HitCounts() {
    }

    /**
     * Runs a user read, a supervisor read and a user store that must each hit the TLB, and checks
     * every count they change. The vCPU's TLB must already hold the page they touch.
     *
     * @param meter the vCPU's exit meter
     * @param vcpuHits the vCPU's {@code tlb_hit} (its block and its meter's hits)
     * @param vmHits the VM's {@code tlb_hit} (one vCPU: the same)
     * @param blockHits the vCPU's counter block's {@code tlb_hit} (the general path's hits only)
     */
    public static void assertEachHitCountedOnce(ExitMeter<?> meter, LongSupplier vcpuHits, LongSupplier vmHits,
            LongSupplier blockHits, BooleanSupplier userRead, BooleanSupplier supervisorRead, BooleanSupplier userStore) {
        long user = meter.accesses(true);
        long supervisor = meter.accesses(false);
        long vcpu = vcpuHits.getAsLong();
        long vm = vmHits.getAsLong();
        assertEquals(vcpu, vm, "one vCPU: its hits are the VM's");
        assertTrue(userRead.getAsBoolean(), "a user read of the cached page");
        assertTrue(supervisorRead.getAsBoolean(), "a supervisor read of it");
        assertTrue(userStore.getAsBoolean(), "a user store to it");
        assertEquals(user + 2, meter.accesses(true), "user accesses");
        assertEquals(supervisor + 1, meter.accesses(false), "supervisor accesses");
        assertEquals(vcpu + 3, vcpuHits.getAsLong(), "the vCPU's tlb_hit");
        assertEquals(vm + 3, vmHits.getAsLong(), "the VM's tlb_hit");
        assertEquals(vcpu + 3 - meter.hits(), blockHits.getAsLong(), "the block holds only the general path's hits");
    }
}
