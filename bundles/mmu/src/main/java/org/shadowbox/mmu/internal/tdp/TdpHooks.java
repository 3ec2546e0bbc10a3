package org.shadowbox.mmu.internal.tdp;

import java.util.Arrays;

import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.spi.WriteProtectHook;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.spi.SlotChange;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.spi.VmListener;

/**
 * The TDP MMUs of one hypervisor and the hooks through which the platform reaches them: page
 * track's {@link WriteProtectHook} ({@code kvm_mmu_slot_gfn_write_protect},
 * {@code kvm_flush_remote_tlbs}) and a {@link VmListener} that zaps every mapping before a
 * memslot is deleted or moved ({@code kvm_arch_flush_shadow_memslot}) and forgets destroyed
 * VMs. Each method does nothing for a VM it does not serve, so page track's single hook can
 * be a dispatcher that calls this and the shadow MMU's hooks in turn. Under TDP the MMU
 * registers no page-track notifier: no guest table is shadowed, nothing to keep coherent.
 *
 * <p>MMUs are found by {@link Vm#id()} in a copy-on-write array: no lock, no allocation.
 */
public final class TdpHooks implements WriteProtectHook, VmListener {
    private final Object lock = new Object();
    private volatile TdpMmu[] byVmId = new TdpMmu[0];

    /** Creates the TDP MMU of {@code vm}, using {@code pageTrack} to ask whether a gfn is tracked. */
    public TdpMmu attach(Vm vm, PageTrack pageTrack, int tlbEntries) {
        synchronized (lock) {
            if (mmu(vm) != null) {
                throw new VmException("VM " + vm.name() + " already has a TDP MMU");
            }
            TdpMmu mmu = new TdpMmu(vm, pageTrack, tlbEntries);
            TdpMmu[] next = Arrays.copyOf(byVmId, Math.max(byVmId.length, vm.id() + 1));
            next[vm.id()] = mmu;
            byVmId = next;
            return mmu;
        }
    }

    /** The TDP MMU of {@code vm}, or null. Lock-free. */
    public TdpMmu mmu(Vm vm) {
        TdpMmu[] a = byVmId;
        int id = vm.id();
        TdpMmu m = id >= 0 && id < a.length ? a[id] : null;
        return m != null && m.vm == vm ? m : null;
    }

    /** Forgets the VM's MMU. */
    public void detach(Vm vm) {
        synchronized (lock) {
            if (mmu(vm) != null) {
                TdpMmu[] next = byVmId.clone();
                next[vm.id()] = null;
                byVmId = next;
            }
        }
    }

    @Override
    public boolean slotGfnWriteProtect(Vm vm, Memslot slot, long gfn) {
        TdpMmu m = mmu(vm);
        return m != null && m.slotGfnWriteProtect(gfn);
    }

    @Override
    public void flushRemoteTlbs(Vm vm) {
        TdpMmu m = mmu(vm);
        if (m != null) {
            m.flushRemoteTlbs();
        }
    }

    @Override
    public void vmDestroyed(Vm vm) {
        detach(vm);
    }

    /** {@code kvm_arch_flush_shadow_memslot}: before a slot goes or moves, no TDP entry may point into it. */
    @Override
    public void prepareSlotChange(Vm vm, SlotChange change) {
        TdpMmu m = mmu(vm);
        if (m != null && change.kind() != SlotChange.Kind.CREATE) {
            m.zapAll();
        }
    }
}
