package org.shadowbox.vm.spi;

import java.util.concurrent.locks.ReentrantLock;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Vm;

/** A VM as the platform sees it: the tracker API plus its MMU lock. Reach it through {@link Platform}. */
@ProviderType
public interface PlatformVm extends Vm {

    /**
     * {@code kvm->mmu_lock}: held by whoever changes sptes, shadow pages, page-track
     * counters or lpage counts; not reentrant. Reads of counters (is_active) do not take it.
     */
    ReentrantLock mmuLock();
}
