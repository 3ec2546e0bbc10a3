package org.shadowbox.mmu.internal.osgi;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
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
import org.shadowbox.mmu.internal.shadow.MmuChecker;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.mmu.internal.shadow.Role;
import org.shadowbox.mmu.internal.shadow.ShadowMmu;
import org.shadowbox.mmu.internal.shadow.ShadowPage;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.SlotChange;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmListener;

/**
 * The MMU of every VM, as one component: KVM's {@code kvm_mmu_init_vm} and
 * {@code kvm_mmu_uninit_vm} around the plain-Java shadow MMU. Registered as
 * <ul>
 * <li>{@link Mmu}: the shell's and tools' way in; {@link GuestCpu} per vCPU;
 * <li>{@link VmListener}: a VM created (or existing when the component starts, replayed by
 *     the hypervisor) gets a {@link ShadowMmu}; before a slot is deleted or moved everything
 *     is zapped ({@code kvm_arch_flush_shadow_memslot}); after a slot change the page limit is
 *     recomputed unless configured ({@code kvm_arch_commit_memory_region}).
 * </ul>
 * Page track reaches the MMUs through {@link MmuHooksComponent} (its write-protect hook and
 * the fallback notifier), whose {@link MmuHooks} this component attaches every MMU to.
 * The {@link PageTrack} it uses is its own bundle-scoped instance; the bundle's manifest says
 * {@code Shadowbox-Tracker-Role: mmu}, so page track counts its tracks as the MMU's. On
 * deactivation (bundle stopped, configuration changed) every shadow page is zapped, which
 * returns every track and lpage count, and the VMs run on without an MMU.
 */
@Component(service = {Mmu.class, VmListener.class}, configurationPid = MmuComponent.PID, immediate = true)
@Designate(ocd = Config.class)
public class MmuComponent implements Mmu, VmListener {
    /** Configuration Admin PID of {@link Config}. */
    public static final String PID = "org.shadowbox.mmu";

    private static final System.Logger LOG = System.getLogger("org.shadowbox.mmu");

    private final PageTrack pageTrack;
    private final MmuHooks hooks;
    private final Map<Vm, VmMmu> vms = new ConcurrentHashMap<>();
    private final int tlbEntries;
    private final int rootCache;
    private final int maxMmuPages;

    /**
     * @param pageTrack the bundle's own page track (owner org.shadowbox.mmu, role MMU)
     * @param hooks     page track's hooks into the MMUs
     * @throws VmException a configuration value out of range (the component does not start)
     */
    @Activate
    public MmuComponent(@Reference PageTrack pageTrack, @Reference MmuHooksComponent hooks, Config config) {
        this.pageTrack = pageTrack;
        this.hooks = hooks.hooks;
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
        for (VmMmu e : vms.values()) {
            e.kill("the MMU of VM " + e.vm.name() + " is gone: the org.shadowbox.mmu bundle stopped or was"
                    + " reconfigured (get the vCPU from the Mmu service again)");
            if (e.served()) {
                try {
                    e.mmu.zapAll();
                } catch (RuntimeException | LinkageError | AssertionError ex) {
                    LOG.log(Level.ERROR, "VM " + e.vm.name() + ": zapping its shadow pages failed: " + ex);
                }
                hooks.detach(e.vm);
            }
        }
        vms.clear();
    }

    // ---- VmListener ----

    /** {@code kvm_mmu_init_vm}: a shadow MMU for the VM, or one logged line saying why not. */
    @Override
    public void vmCreated(Vm vm) {
        String missing = Support.missing(vm.spec());
        if (missing != null) {
            String refusal = Support.refusal(vm.name(), missing);
            LOG.log(Level.WARNING, refusal);
            vms.put(vm, VmMmu.notServed(vm, refusal));
            return;
        }
        ShadowMmu mmu = hooks.attach(vm, pageTrack, tlbEntries, rootCache);
        if (maxMmuPages != 0) {
            mmu.setMaxMmuPages(maxMmuPages);
        }
        vms.put(vm, VmMmu.served(vm, mmu));
    }

    @Override
    public void vmDestroyed(Vm vm) {
        VmMmu e = vms.remove(vm);
        if (e != null) {
            e.kill("VM " + vm.name() + " was destroyed");
        }
        hooks.vmDestroyed(vm);
    }

    @Override
    public void prepareSlotChange(Vm vm, SlotChange change) {
        hooks.prepareSlotChange(vm, change);
    }

    /** {@code kvm_arch_commit_memory_region}: the page limit follows the memory unless configured. */
    @Override
    public void commitSlotChange(Vm vm, SlotChange change) {
        ShadowMmu mmu = hooks.mmu(vm);
        if (mmu != null && maxMmuPages == 0) {
            mmu.setMaxMmuPages(ShadowMmu.defaultMaxMmuPages(vm));
        }
    }

    // ---- Mmu ----

    private VmMmu entry(Vm vm) {
        VmMmu e = vms.get(vm);
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
        List<ShadowPageInfo> out = new ArrayList<>();
        for (ShadowPage sp : entry(vm).require().shadowPages()) {
            out.add(new ShadowPageInfo(sp.id(), sp.gfn(), sp.level(), Role.describe(sp.role()), sp.direct(),
                    sp.unsync(), sp.writeFloodingCount(), sp.parentCount(), sp.rootCount()));
        }
        return out;
    }

    /** KVM's counters, then the page counts KVM keeps in {@code kvm->arch}. */
    @Override
    public List<Stat> stats(Vm vm) {
        ShadowMmu mmu = entry(vm).require();
        List<Stat> out = new ArrayList<>();
        for (Map.Entry<String, Long> s : mmu.stats().asMap().entrySet()) {
            out.add(new Stat(s.getKey(), s.getValue()));
        }
        out.add(new Stat("n_used_mmu_pages", mmu.shadowPages().size()));
        out.add(new Stat("n_max_mmu_pages", mmu.maxMmuPages()));
        return out;
    }

    @Override
    public Walk walk(Vm vm, int vcpu, long gva) {
        VmMmu e = entry(vm);
        return Walks.walk(e.require(), e.cpu(vcpu).vcpuMmu(), gva);
    }

    @Override
    public List<String> check(Vm vm) {
        return MmuChecker.check(entry(vm).require());
    }

    /** {@code kvm_make_request(KVM_REQ_TLB_FLUSH)}: the vCPU flushes before its next access. */
    @Override
    public void flush(Vm vm, int vcpu) {
        VmMmu e = entry(vm);
        ShadowMmu mmu = e.require();
        if (vcpu == -1) {
            for (int i = 0; i < mmu.vcpuCount(); i++) {
                mmu.vcpu(i).requestTlbFlush();
            }
        } else {
            e.cpu(vcpu).vcpuMmu().requestTlbFlush();
        }
    }
}
