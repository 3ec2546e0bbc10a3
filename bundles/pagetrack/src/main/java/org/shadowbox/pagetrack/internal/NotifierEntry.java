package org.shadowbox.pagetrack.internal;

import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/**
 * One registered notifier ({@code struct kvm_page_track_notifier_node}) with the VMs it
 * selects and its guard record. The same entry sits in the notifier array of every VM it
 * is attached to.
 *
 * <p>An isolated entry ({@code guard.isolate}) is called on the {@link Courier} of the calling
 * {@link CallSlot}.
 */
final class NotifierEntry extends GuardedTarget {
    final PageTrackNotifier notifier;
    /** Registration order: higher is newer, called first. The service id under OSGi. */
    final long order;
    /** VM names from {@link PageTrackNotifier#VM_PROPERTY}; {@code null} selects every VM. */
    private final Set<String> vmNames;
    /** Called through a {@link Courier} ({@code guard.isolate}); set under the core's registry lock. */
    volatile boolean isolated;
    /** The registering bundle's id (-1 outside OSGi); set before the entry is attached. */
    long bundleId = -1;
    /** Courier threads abandoned by a timeout whose call has not returned yet. */
    final AtomicInteger abandonedCouriers = new AtomicInteger();

    NotifierEntry(PageTrackNotifier notifier, String bundle, long serviceId, long order, Set<String> vmNames) {
        super(notifier, bundle, serviceId, true);
        this.notifier = notifier;
        this.order = order;
        this.vmNames = vmNames == null ? null : Set.copyOf(vmNames);
    }

    boolean selects(Vm vm) {
        return vmNames == null || vmNames.contains(vm.name());
    }

    /** @param calls the calls into it so far ({@code PageTrackCore} sums the vCPUs' counts) */
    NotifierInfo info(long calls) {
        return new NotifierInfo(name, bundle, serviceId, calls, failures.get(), disabled, lastError, bundleId);
    }
}
