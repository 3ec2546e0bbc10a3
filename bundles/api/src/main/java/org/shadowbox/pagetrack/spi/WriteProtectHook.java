package org.shadowbox.pagetrack.spi;

import org.osgi.annotation.versioning.ConsumerType;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * What page track needs from an MMU, provided as an OSGi service by the MMU bundle so
 * that page track does not depend on it (and works without it).
 */
@ConsumerType
public interface WriteProtectHook {

    /**
     * {@code kvm_mmu_slot_gfn_write_protect}: removes write access from every spte mapping
     * {@code gfn} at every level, clearing both the writable and the MMU-writable bits.
     * Called with the MMU lock held.
     *
     * @return true if any spte changed
     */
    boolean slotGfnWriteProtect(Vm vm, Memslot slot, long gfn);

    /** {@code kvm_flush_remote_tlbs}: every vCPU of the VM flushes before it re-enters. */
    void flushRemoteTlbs(Vm vm);
}
