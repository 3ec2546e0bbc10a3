package org.shadowbox.pagetrack;

import org.osgi.annotation.versioning.ConsumerType;
import org.shadowbox.vm.Vm;

/**
 * A tracker: {@code struct kvm_page_track_notifier_node}. Register an implementation as
 * an OSGi service and page track attaches it to the VMs named by its
 * {@value #VM_PROPERTY} service property (every VM, present and future, when absent).
 *
 * <p>Guarantees: notifiers are called newest first; {@link #trackWrite} comes after guest
 * memory holds the new bytes; calls come on the writing vCPU's thread (or, for a bundle the
 * sandbox isolates, {@code guard.isolate}, on a courier thread per calling vCPU while that vCPU
 * waits), concurrently from different vCPUs, with no Shadowbox lock held; once the service is
 * unregistered (or its bundle stops) it is never called again, and unregistration returns
 * only when no call into it is running, except a call the sandbox timed out and abandoned. A
 * call that throws is caught and blamed on the bundle; after repeated failures, or one call
 * that does not return in time, the notifier is disabled. A write whose call timed out is
 * already in guest memory: the notifier just never hears of it.
 *
 * <p>Notifiers are not filtered by tracking state: each decides whether a gpa concerns it,
 * as in KVM. A callback may read guest memory and call {@link PageTrack}; it must not
 * unregister itself from inside the callback (that would wait for itself).
 */
@ConsumerType
public interface PageTrackNotifier {

    /** Service property: the VM name(s) (String or String[]) to attach to. */
    String VM_PROPERTY = "shadowbox.vm";

    /**
     * {@code track_write}: an emulated write landed in guest memory.
     *
     * @param vm     the VM
     * @param vcpuId the writing vCPU
     * @param gpa    first byte written; the write does not cross a page
     * @param value  the bytes written, little-endian in the low {@code bytes} bytes
     * @param bytes  1 to 8
     */
    void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes);

    /**
     * {@code track_remove_region} (KVM 6.6): the committed delete of a memslot; the
     * notifier should drop what it keeps for {@code [gfn, gfn + npages)}. Delivered once.
     */
    default void trackRemoveRegion(Vm vm, long gfn, long npages) {
    }
}
