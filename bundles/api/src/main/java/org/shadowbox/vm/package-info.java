/**
 * Guest memory, memslots, vCPUs and the hypervisor that owns them: the part of KVM's
 * {@code virt/kvm/kvm_main.c} and {@code arch/x86/kvm/x86.c} that every other
 * Shadowbox bundle stands on.
 *
 * <p>Numbers follow KVM: a gfn is a guest frame number ({@code gpa >> 12}), a
 * memslot covers {@code [baseGfn, baseGfn + npages)}, and all of them are plain
 * {@code long}s so that the guest-access paths never box or allocate.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("3.0.0")
package org.shadowbox.vm;
