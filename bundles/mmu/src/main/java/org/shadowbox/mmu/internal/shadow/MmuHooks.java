package org.shadowbox.mmu.internal.shadow;

import java.util.Arrays;

import org.shadowbox.mmu.spi.PteWriteHandler;
import org.shadowbox.pagetrack.spi.MmuPageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.spi.WriteProtectHook;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.spi.SlotChange;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.spi.VmListener;

/**
 * The shadow MMUs of one hypervisor and the three hooks through which the platform reaches
 * them: page track's {@link WriteProtectHook} ({@code kvm_mmu_slot_gfn_write_protect},
 * {@code kvm_flush_remote_tlbs}), the MMU's one {@link PageTrackNotifier}
 * ({@code kvm_mmu_pte_write}, registered for every VM as {@code kvm_mmu_init_vm} registers it:
 * the only route of emulated writes to shadowed page tables under the pagetrack policy), and a
 * {@link VmListener} that zaps everything before a memslot
 * is deleted or moved ({@code kvm_arch_flush_shadow_memslot}) and forgets destroyed VMs.
 *
 * <p>MMUs are found by {@link Vm#id()} in a copy-on-write array: no lock, no allocation.
 *
 * <p>The notifier hands each write, under the MMU lock, to the bound write-flood policy
 * ({@link PteWriteHandler}, {@link #setPteWriteHandler}; under OSGi, a dynamic optional
 * reference to the writeflood bundle's service) or to the MMU's fallback. See package
 * {@code org.shadowbox.mmu.spi} for why each write is processed exactly once.
 */
public final class MmuHooks implements WriteProtectHook, PageTrackNotifier, VmListener {
    private final Object lock = new Object();
    private volatile ShadowMmu[] byVmId = new ShadowMmu[0];
    /** The bound pte-write handler, or null. Changed under {@link #lock}. */
    private PteWrites.HandlerEntry handler;

    /** Creates the shadow MMU of {@code vm}, using {@code pageTrack} as the MMU's owner. */
    public ShadowMmu attach(Vm vm, MmuPageTrack pageTrack, int tlbEntries, int prevRoots) {
        synchronized (lock) {
            if (mmu(vm) != null) {
                throw new org.shadowbox.vm.VmException("VM " + vm.name() + " already has a shadow MMU");
            }
            ShadowMmu mmu = new ShadowMmu(vm, pageTrack, tlbEntries, prevRoots);
            mmu.pteWrites.handler = handler;
            ShadowMmu[] next = Arrays.copyOf(byVmId, Math.max(byVmId.length, vm.id() + 1));
            next[vm.id()] = mmu;
            byVmId = next;
            return mmu;
        }
    }

    /** The shadow MMU of {@code vm}, or null. Lock-free. */
    public ShadowMmu mmu(Vm vm) {
        ShadowMmu[] a = byVmId;
        int id = vm.id();
        ShadowMmu m = id >= 0 && id < a.length ? a[id] : null;
        return m != null && m.vm == vm ? m : null;
    }

    /** Forgets the VM's MMU (its shadow pages die with it). */
    public void detach(Vm vm) {
        synchronized (lock) {
            if (mmu(vm) != null) {
                ShadowMmu[] next = byVmId.clone();
                next[vm.id()] = null;
                byVmId = next;
            }
        }
    }

    /**
     * Binds {@code h} (blamed on {@code bundle} when it fails): from the next emulated write on,
     * every shadow MMU gives writes to it instead of zapping. Replaces a handler bound before.
     */
    public void setPteWriteHandler(PteWriteHandler h, String bundle) {
        synchronized (lock) {
            handler = new PteWrites.HandlerEntry(h, bundle);
            for (ShadowMmu m : byVmId) {
                if (m != null) {
                    m.pteWrites.handler = handler;
                }
            }
        }
    }

    /**
     * Unbinds {@code h} if it is the bound handler, and returns when no call into it is running
     * in any VM; from then on the fallback serves every write. Not from inside the handler.
     */
    public void unsetPteWriteHandler(PteWriteHandler h) {
        synchronized (lock) {
            if (handler == null || handler.handler != h) {
                return;
            }
            handler = null;
            for (ShadowMmu m : byVmId) {
                if (m != null) {
                    m.pteWrites.handler = null;
                    m.pteWrites.quiesce();
                }
            }
        }
    }

    /** The bound handler, or null. */
    public PteWriteHandler pteWriteHandler() {
        synchronized (lock) {
            return handler == null ? null : handler.handler;
        }
    }

    @Override
    public boolean slotGfnWriteProtect(Vm vm, Memslot slot, long gfn) {
        ShadowMmu m = mmu(vm);
        return m != null && m.slotGfnWriteProtect(gfn);
    }

    @Override
    public void flushRemoteTlbs(Vm vm) {
        ShadowMmu m = mmu(vm);
        if (m != null) {
            m.flushRemoteTlbs();
        }
    }

    /**
     * {@code kvm_mmu_pte_write} as the VM's page-track notifier. Under the legacy policy it does
     * nothing: there the emulator calls {@code kvm_mmu_pte_write} itself
     * ({@link EmulatorPteWrite}), so that each write takes one route.
     */
    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        ShadowMmu m = mmu(vm);
        if (m != null) {
            m.pteWrites.notified(vcpuId, gpa, value, bytes);
        }
    }

    @Override
    public void vmDestroyed(Vm vm) {
        detach(vm);
    }

    /** {@code kvm_arch_flush_shadow_memslot}: before a slot goes or moves, no spte may point into it. */
    @Override
    public void prepareSlotChange(Vm vm, SlotChange change) {
        ShadowMmu m = mmu(vm);
        if (m != null && change.kind() != SlotChange.Kind.CREATE) {
            m.zapAll();
        }
    }
}
