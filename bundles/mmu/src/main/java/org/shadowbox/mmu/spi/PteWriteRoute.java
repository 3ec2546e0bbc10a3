package org.shadowbox.mmu.spi;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Vm;

/**
 * The MMU's door for the notifier route of {@code kvm_mmu_pte_write}, an OSGi service of the
 * MMU bundle. A {@link PteWriteHandler}'s page-track notifier passes on every
 * {@code trackWrite} it receives; the MMU processes each emulated write once (see the package
 * description), with the bound handler or its fallback. Writes to VMs the MMU does not shadow
 * are ignored.
 */
@ProviderType
public interface PteWriteRoute {

    /** Arguments as {@link org.shadowbox.pagetrack.PageTrackNotifier#trackWrite}. Takes the MMU lock. */
    void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes);
}
