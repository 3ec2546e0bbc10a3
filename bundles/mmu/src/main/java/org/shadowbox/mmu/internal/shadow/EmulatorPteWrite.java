package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.Vcpu;

/**
 * The emulator's direct call of the pte-write handler under the legacy policy: 4.5's
 * {@code emulator_write_phys} called {@code kvm_mmu_pte_write} itself, after writing guest
 * memory, where 4.6 calls {@code kvm_page_track_write} and the MMU listens as a notifier.
 * Registered with the hypervisor as an {@link EmulatedWriteListener}; it acts only for
 * shadow MMUs whose policy is legacy (the others hear the write through page track); the write
 * goes to {@link ShadowMmu#pteWrite}, the bound pte-write handler (the write-flood bundle's
 * {@code kvm_mmu_pte_write}) or the MMU's fallback, the same code the notifier route runs.
 */
public final class EmulatorPteWrite implements EmulatedWriteListener {
    private final MmuHooks hooks;

    public EmulatorPteWrite(MmuHooks hooks) {
        this.hooks = hooks;
    }

    @Override
    public void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes) {
        ShadowMmu m = hooks.mmu(vcpu.vm());
        if (m != null && !m.policy.pteWriteByNotifier()) {
            m.pteWrite(vcpu.id(), gpa, value, bytes);
        }
    }
}
