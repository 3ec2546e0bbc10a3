package org.shadowbox.mmu.internal.osgi;

import org.osgi.service.component.annotations.Component;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.WriteProtectHook;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * The {@link MmuHooks} of this bundle as page track's {@link WriteProtectHook}
 * ({@code kvm_mmu_slot_gfn_write_protect}, {@code kvm_flush_remote_tlbs}) and as the MMU's own
 * {@link PageTrackNotifier} (the fallback for emulated writes to shadowed tables, registered
 * for every VM as KVM registers {@code kvm_mmu_pte_write} at VM init). Also registered under
 * its own class, for {@link MmuComponent}, which attaches the shadow MMUs to {@link #hooks}.
 *
 * <p>A component of its own, with no reference, because page track references both hook
 * types: were they provided by {@link MmuComponent}, which references page track, SCR would
 * find a cycle (page track, MMU, page track) at every start.
 */
@Component(service = {WriteProtectHook.class, PageTrackNotifier.class, MmuHooksComponent.class}, immediate = true)
public class MmuHooksComponent implements WriteProtectHook, PageTrackNotifier {

    final MmuHooks hooks = new MmuHooks();

    @Override
    public boolean slotGfnWriteProtect(Vm vm, Memslot slot, long gfn) {
        return hooks.slotGfnWriteProtect(vm, slot, gfn);
    }

    @Override
    public void flushRemoteTlbs(Vm vm) {
        hooks.flushRemoteTlbs(vm);
    }

    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        hooks.trackWrite(vm, vcpuId, gpa, value, bytes);
    }
}
