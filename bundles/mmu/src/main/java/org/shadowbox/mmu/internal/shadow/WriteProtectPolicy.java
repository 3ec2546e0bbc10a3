package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.Vcpu;

import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * How the shadow MMU keeps shadowed guest page tables write-protected: through page track,
 * as KVM since the 2016 series ({@link PageTrackPolicy}), or as KVM did before it
 * ({@link LegacyPolicy}, the seed's "before"). The MMU consults this object at the five
 * places where the series changed the code; everything else is shared, so the guest sees
 * exactly the same results under both and only the work differs.
 */
abstract class WriteProtectPolicy {

    /** The policy the VM's spec names ({@value VmSpec#POLICY}). */
    static WriteProtectPolicy of(Vm vm) {
        return VmSpec.POLICY_LEGACY.equals(vm.spec().option(VmSpec.POLICY)) ? LegacyPolicy.INSTANCE
                : PageTrackPolicy.INSTANCE;
    }

    /** {@value VmSpec#POLICY_PAGETRACK} or {@value VmSpec#POLICY_LEGACY}. */
    abstract String name();

    /**
     * {@code account_shadowed} (after {@code indirect_shadow_pages++}): what a new indirect
     * shadow page of {@code sp.gfn} records. Caller holds the MMU lock.
     */
    abstract void accountShadowed(ShadowMmu mmu, ShadowPage sp);

    /** {@code unaccount_shadowed}: the mirror of {@link #accountShadowed}. */
    abstract void unaccountShadowed(ShadowMmu mmu, ShadowPage sp);

    /** Whether {@code kvm_mmu_get_page} write-protects the gfn of a new indirect page of {@code level} through the rmap. */
    abstract boolean rmapWriteProtectOnCreate(int level);

    /**
     * {@code mmu_need_write_protect}: must the spte of {@code gfn} stay read-only? May mark pages
     * unsync. {@code vcpu}: the vCPU whose own memslot lookup the page-track count is read through
     * (4.6's {@code kvm_page_track_is_active(vcpu, ...)}), on that vCPU's thread; null where the
     * caller may be on another thread (a pte write's {@code update_pte} on a courier): the VM's lookup.
     */
    abstract boolean needWriteProtect(ShadowMmu mmu, Vcpu vcpu, long gfn, boolean canUnsync);

    /** Whether the fault path has {@code page_fault_handle_page_track}'s fast return to emulation. */
    abstract boolean fastPageTrackPath();

    /**
     * Whether the pte-write handler ({@code kvm_mmu_pte_write}, today the MMU's zap fallback)
     * is a page-track notifier (true) or is called by the emulator directly (false).
     */
    abstract boolean pteWriteByNotifier();

    /** Whether the MMU holds page-track counts for the gfns of its non-leaf indirect pages (checker (b)). */
    abstract boolean tracksShadowedTables();

    @Override
    public String toString() {
        return name();
    }
}
