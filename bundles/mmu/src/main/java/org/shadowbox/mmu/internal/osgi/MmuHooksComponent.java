package org.shadowbox.mmu.internal.osgi;

import org.osgi.service.component.annotations.Component;
import org.shadowbox.mmu.internal.shadow.EmulatorPteWrite;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.mmu.internal.tdp.TdpHooks;
import org.shadowbox.mmu.internal.tdp.TdpMmu;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.spi.WriteProtectHook;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;

/**
 * The platform's ways into this bundle's MMUs, shadow ({@link #hooks}) and TDP
 * ({@link #tdpHooks}), as three services:
 * <ul>
 * <li>page track's one {@link WriteProtectHook} ({@code kvm_mmu_slot_gfn_write_protect},
 *     {@code kvm_flush_remote_tlbs}): a dispatcher that calls the TDP hooks for a VM a TDP MMU
 *     serves and the shadow hooks otherwise (each does nothing for a VM it does not serve);
 * <li>the shadow MMU's one {@link PageTrackNotifier}, {@code kvm_mmu_pte_write}, registered for
 *     every VM as {@code kvm_mmu_init_vm} registers it: the one route of emulated writes to
 *     shadowed tables, handed to the bound write-flood policy or the fallback; it does nothing
 *     for TDP VMs, which shadow nothing, and for legacy VMs, whose writes come by the next route;
 * <li>an {@link EmulatedWriteListener}, the legacy policy's direct call of the pte-write
 *     handler by the emulator ({@link EmulatorPteWrite}); it does nothing for other VMs.
 * </ul>
 * Also registered under its own class, for {@link MmuComponent}, which attaches the MMUs to
 * these hooks, and {@link PteWriteComponent}.
 *
 * <p>A component of its own, with no reference, because page track references the hook and
 * notifier types: were they provided by {@link MmuComponent}, which references page track, SCR
 * would find a cycle (page track, MMU, page track) at every start.
 */
@Component(service = {WriteProtectHook.class, PageTrackNotifier.class, EmulatedWriteListener.class,
        MmuHooksComponent.class}, immediate = true)
public class MmuHooksComponent implements WriteProtectHook, PageTrackNotifier, EmulatedWriteListener {

    final MmuHooks hooks = new MmuHooks();
    final TdpHooks tdpHooks = new TdpHooks();
    private final EmulatorPteWrite emulatorPteWrite = new EmulatorPteWrite(hooks);

    @Override
    public boolean slotGfnWriteProtect(Vm vm, Memslot slot, long gfn) {
        TdpMmu t = tdpHooks.mmu(vm);
        return t != null ? tdpHooks.slotGfnWriteProtect(vm, slot, gfn) : hooks.slotGfnWriteProtect(vm, slot, gfn);
    }

    @Override
    public void flushRemoteTlbs(Vm vm) {
        if (tdpHooks.mmu(vm) != null) {
            tdpHooks.flushRemoteTlbs(vm);
        } else {
            hooks.flushRemoteTlbs(vm);
        }
    }

    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        hooks.trackWrite(vm, vcpuId, gpa, value, bytes);
    }

    @Override
    public void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes) {
        emulatorPteWrite.emulatedWrite(vcpu, gpa, value, bytes);
    }
}
