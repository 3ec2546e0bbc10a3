package org.shadowbox.mmu.internal.osgi;

import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.ShadowPageInfo;
import org.shadowbox.mmu.Walk;
import org.shadowbox.mmu.internal.shadow.ExitMeter;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.mmu.internal.shadow.MmuStats;
import org.shadowbox.mmu.internal.shadow.ShadowMmu;
import org.shadowbox.mmu.internal.tdp.TdpHooks;
import org.shadowbox.mmu.internal.tdp.TdpStats;
import org.shadowbox.mmu.internal.tdp.TdpMmu;
import org.shadowbox.mmu.meter.MmuMeter;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.spi.MmuPageTrack;
import org.shadowbox.vm.spi.SlotChange;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.spi.VmListener;

/**
 * The MMU of every VM, as one component: KVM's {@code kvm_mmu_init_vm} and
 * {@code kvm_mmu_uninit_vm} around the plain-Java MMUs. Registered as
 * <ul>
 * <li>{@link Mmu}: the shell's and tools' way in; {@link GuestCpu} per vCPU;
 * <li>{@link MmuMeter}: each vCPU's work by the guest mode that caused it, for cost models
 *     (shadow and TDP MMUs alike, by the same counter names);
 * <li>{@link VmListener}: a VM created (or existing when the component starts, replayed by
 *     the hypervisor) gets the MMU its spec names: a {@link TdpMmu} for {@code mmu=tdp}, a
 *     {@link ShadowMmu} (whose policy, pagetrack or legacy, it reads from the spec itself)
 *     for {@code mmu=shadow}; before a slot is deleted or moved everything is zapped
 *     ({@code kvm_arch_flush_shadow_memslot}); after a slot change the shadow page limit is
 *     recomputed unless configured ({@code kvm_arch_commit_memory_region}).
 * </ul>
 * Page track and the emulator reach the MMUs through {@link MmuHooksComponent} (the
 * write-protect hook, the fallback notifier, the legacy direct pte-write call), whose hooks
 * this component attaches every MMU to. The {@link PageTrack} it uses is its own bundle-scoped
 * instance; the bundle's manifest says {@code Shadowbox-Tracker-Role: mmu}, so page track
 * counts its tracks as the MMU's. On deactivation (bundle stopped, configuration changed)
 * every mapping is zapped, which returns every track and lpage count, and the VMs run on
 * without an MMU.
 */
@Component(service = {Mmu.class, MmuMeter.class, VmListener.class}, configurationPid = MmuComponent.PID, immediate = true)
@Designate(ocd = Config.class)
public class MmuComponent implements Mmu, MmuMeter, VmListener {
    /** Configuration Admin PID of {@link Config}. */
    public static final String PID = "org.shadowbox.mmu";

    private static final System.Logger LOG = System.getLogger("org.shadowbox.mmu");

    private final MmuPageTrack pageTrack;
    private final MmuHooks hooks;
    private final TdpHooks tdpHooks;
    private final Map<Vm, VmMmu<?>> vms = new ConcurrentHashMap<>();
    private final int tlbEntries;
    private final int rootCache;
    private final int maxMmuPages;

    /**
     * @param pageTrack the bundle's own page track (owner org.shadowbox.mmu, role MMU)
     * @param hooks     page track's and the emulator's hooks into the MMUs
     * @throws VmException a configuration value out of range (the component does not start)
     */
    @Activate
    public MmuComponent(@Reference MmuPageTrack pageTrack, @Reference MmuHooksComponent hooks, Config config) {
        this.pageTrack = pageTrack;
        this.hooks = hooks.hooks;
        this.tdpHooks = hooks.tdpHooks;
        this.tlbEntries = config.tlb_entries();
        this.rootCache = config.root_cache();
        this.maxMmuPages = config.max_mmu_pages();
        if (tlbEntries < 1 || tlbEntries > 65536 || Integer.bitCount(tlbEntries) != 1) {
            throw new VmException("configuration " + PID + ": bad tlb.entries " + tlbEntries
                    + ": accepted a power of two from 1 to 65536");
        }
        if (rootCache < 0 || rootCache > 16) {
            throw new VmException("configuration " + PID + ": bad root.cache " + rootCache + ": accepted 0 to 16");
        }
        if (maxMmuPages != 0 && maxMmuPages < 4) {
            throw new VmException("configuration " + PID + ": bad max.mmu.pages " + maxMmuPages
                    + ": accepted 0 (computed as KVM does) or at least 4");
        }
    }

    /** {@code kvm_mmu_uninit_vm} for every VM: zap all (returning tracks and lpage counts), then forget. */
    @Deactivate
    void deactivate() {
        for (VmMmu<?> e : vms.values()) {
            e.kill("the MMU of VM " + e.vm.name() + " is gone: the org.shadowbox.mmu bundle stopped or was"
                    + " reconfigured (get the vCPU from the Mmu service again)");
            try {
                e.release();
            } catch (RuntimeException | LinkageError | AssertionError ex) {
                LOG.log(Level.ERROR, "VM " + e.vm.name() + ": zapping its MMU's mappings failed: " + ex);
            }
        }
        vms.clear();
    }

    // ---- VmListener ----

    /** {@code kvm_mmu_init_vm}: the MMU the VM's spec names. */
    @Override
    public void vmCreated(Vm vm) {
        if (Support.tdp(vm.spec())) {
            vms.put(vm, new TdpVmMmu(tdpHooks, tdpHooks.attach(vm, pageTrack, tlbEntries)));
            return;
        }
        ShadowMmu mmu = hooks.attach(vm, pageTrack, tlbEntries, rootCache);
        if (maxMmuPages != 0) {
            mmu.setMaxMmuPages(maxMmuPages);
        }
        vms.put(vm, new ShadowVmMmu(hooks, mmu));
    }

    @Override
    public void vmDestroyed(Vm vm) {
        VmMmu<?> e = vms.remove(vm);
        if (e != null) {
            e.kill("VM " + vm.name() + " was destroyed");
        }
        hooks.vmDestroyed(vm);
        tdpHooks.vmDestroyed(vm);
    }

    @Override
    public void prepareSlotChange(Vm vm, SlotChange change) {
        hooks.prepareSlotChange(vm, change);
        tdpHooks.prepareSlotChange(vm, change);
    }

    /** {@code kvm_arch_commit_memory_region}: the shadow page limit follows the memory unless configured. */
    @Override
    public void commitSlotChange(Vm vm, SlotChange change) {
        ShadowMmu mmu = hooks.mmu(vm);
        if (mmu != null && maxMmuPages == 0) {
            mmu.setMaxMmuPages(ShadowMmu.defaultMaxMmuPages(vm));
        }
    }

    // ---- Mmu ----

    /** The MMU of {@code vm} (package-private for the tests of the safe point). */
    VmMmu<?> entry(Vm vm) {
        VmMmu<?> e = vms.get(vm);
        if (e == null) {
            throw new VmException(vm.destroyed() ? "VM " + vm.name() + " was destroyed"
                    : "VM " + vm.name() + " has no MMU: it belongs to another hypervisor");
        }
        return e;
    }

    @Override
    public GuestCpu cpu(Vm vm, int vcpu) {
        return entry(vm).cpu(vcpu);
    }

    @Override
    public List<ShadowPageInfo> shadowPages(Vm vm) {
        return entry(vm).shadowPages();
    }

    @Override
    public List<Link> shadowLinks(Vm vm) {
        return entry(vm).shadowLinks();
    }

    @Override
    public List<Stat> stats(Vm vm) {
        return entry(vm).stats();
    }

    @Override
    public Walk walk(Vm vm, int vcpu, long gva) {
        return entry(vm).walk(vcpu, gva);
    }

    @Override
    public List<String> check(Vm vm) {
        // Under TDP every vCPU between two accesses first (its TLB and the guest tables it walks
        // change with no exit); then between emulated writes, then under the mmu_lock: never a guest
        // pte already stored but not yet delivered to kvm_mmu_pte_write, so a check beside a run
        // reports only real violations.
        VmMmu<?> e = entry(vm);
        return e.atSafePoint(() -> org.shadowbox.vm.spi.Platform.vm(vm).betweenEmulatedWrites(e::check));
    }

    /** {@code kvm_make_request(KVM_REQ_TLB_FLUSH)}: the vCPU flushes before its next access. */
    @Override
    public void flush(Vm vm, int vcpu) {
        entry(vm).flush(vcpu);
    }

    // ---- MmuMeter ----

    /** The vCPU's {@link ExitMeter}, of the shadow or the TDP MMU: the same rule, the same counter names. */
    @Override
    public Map<String, Long> work(Vm vm, int vcpu, boolean user) {
        GuestCpu c = entry(vm).cpu(vcpu);
        Map<String, Long> out = new LinkedHashMap<>();
        if (c instanceof ShadowGuestCpu s) {
            ExitMeter<MmuStats> m = s.vcpuMmu().meter();
            out.put(MmuMeter.ACCESSES, m.accesses(user));
            out.putAll(m.work(user).asMap());
        } else {
            ExitMeter<TdpStats> m = ((TdpGuestCpu) c).tdpVcpu().meter();
            out.put(MmuMeter.ACCESSES, m.accesses(user));
            out.putAll(m.work(user).asMap());
        }
        return out;
    }
}
