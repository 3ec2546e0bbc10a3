package org.shadowbox.mmu;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.shadowbox.vm.Vm;

/**
 * The MMU service: one per hypervisor, serving every VM with the MMU its spec names
 * ({@code mmu=shadow|tdp}, {@code policy=pagetrack|legacy}). Every method fails with a
 * one-line {@link org.shadowbox.vm.VmException} for a VM it does not serve.
 */
@ProviderType
public interface Mmu {

    /**
     * vCPU {@code vcpu} of {@code vm} as the guest sees memory through the MMU. The object
     * is the vCPU's own and is reused: drive it from one thread at a time, as a vCPU.
     */
    GuestCpu cpu(Vm vm, int vcpu);

    /** The shadow pages (empty under TDP for guest tables; TDP tables are direct pages). */
    List<ShadowPageInfo> shadowPages(Vm vm);

    /** The MMU's counters by KVM's names (pf_fixed, pf_emulate, mmu_cache_miss, ...), in a stable order. */
    List<Stat> stats(Vm vm);

    /** Every guest level and every shadow (or TDP) level that translating {@code gva} on the vCPU meets. */
    Walk walk(Vm vm, int vcpu, long gva);

    /**
     * Runs the invariant checker: no writable spte maps a write-tracked gfn; every gfn
     * shadowed by an indirect non-leaf page is write-tracked (pagetrack policy); no
     * writable large spte covers a disallowed frame; present sptes of synced pages agree
     * with the guest tables; reverse maps and parent pointers agree; no vCPU TLB entry is
     * more permissive than the tables after the flushes that should have removed it.
     * Consistent during a run: under TDP it first waits for every vCPU to be between two
     * accesses (KVM's {@code vcpu->mutex}, as {@code kvm_lock_all_vcpus}); then it looks
     * {@linkplain Vm#betweenEmulatedWrites between emulated writes}, under the MMU lock.
     *
     * @return the violations, one line each; empty when all hold
     */
    List<String> check(Vm vm);

    /** Flushes the TLB of one vCPU, or of every vCPU when {@code vcpu} is -1. */
    void flush(Vm vm, int vcpu);

    /**
     * The edges of the shadow page tree: every present non-leaf spte that points at another
     * shadow page, read under the MMU lock in one pass (KVM's {@code parent_ptes}, seen from
     * the parent's side). Together with {@link #shadowPages} it draws the tree under each root.
     */
    List<Link> shadowLinks(Vm vm);

    /** One named counter. */
    record Stat(String name, long value) {
    }

    /**
     * Entry {@code index} of shadow page {@code parent} points at shadow page {@code child}
     * (ids as {@link ShadowPageInfo#id()}).
     */
    record Link(int parent, int index, int child) {
    }
}
