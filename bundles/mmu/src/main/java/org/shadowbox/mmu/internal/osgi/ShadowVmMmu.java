package org.shadowbox.mmu.internal.osgi;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.vm.spi.Platform;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.ShadowPageInfo;
import org.shadowbox.mmu.Walk;
import org.shadowbox.mmu.internal.shadow.MmuChecker;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.mmu.internal.shadow.Role;
import org.shadowbox.mmu.internal.shadow.ShadowMmu;
import org.shadowbox.mmu.internal.shadow.ShadowPage;

/**
 * A VM under shadow paging ({@code mmu=shadow}, either policy) as the {@link Mmu} service
 * shows it: its {@link ShadowMmu}, one {@link ShadowGuestCpu} per vCPU.
 */
final class ShadowVmMmu extends VmMmu<ShadowGuestCpu> {
    final ShadowMmu mmu;
    private final MmuHooks hooks;

    ShadowVmMmu(MmuHooks hooks, ShadowMmu mmu) {
        super(mmu.vm());
        this.hooks = hooks;
        this.mmu = mmu;
        ShadowGuestCpu[] cpus = new ShadowGuestCpu[mmu.vcpuCount()];
        for (int i = 0; i < cpus.length; i++) {
            cpus[i] = new ShadowGuestCpu(this, mmu.vcpu(i));
        }
        cpus(cpus);
    }

    @Override
    List<ShadowPageInfo> shadowPages() {
        checkLive();
        List<ShadowPageInfo> out = new ArrayList<>();
        for (ShadowPage sp : mmu.shadowPages()) {
            out.add(new ShadowPageInfo(sp.id(), sp.gfn(), sp.level(), Role.describe(sp.role()), sp.direct(),
                    sp.unsync(), sp.writeFloodingCount(), sp.parentCount(), sp.rootCount()));
        }
        return out;
    }

    /** Each page's {@code parent_ptes}, decoded to (parent page, index), under the MMU lock. */
    @Override
    List<Mmu.Link> shadowLinks() {
        checkLive();
        List<Mmu.Link> out = new ArrayList<>();
        Platform.mmuLock(vm).lock();
        try {
            for (ShadowPage sp : mmu.shadowPagesLocked()) {
                for (int i = 0; i < sp.parentCount(); i++) {
                    long sptep = sp.parentPte(i);
                    out.add(new Mmu.Link(ShadowPage.sptepPage(sptep), ShadowPage.sptepIndex(sptep), sp.id()));
                }
            }
        } finally {
            Platform.mmuLock(vm).unlock();
        }
        return out;
    }

    /** KVM's counters, then the page counts KVM keeps in {@code kvm->arch}. */
    @Override
    List<Mmu.Stat> stats() {
        checkLive();
        List<Mmu.Stat> out = stats(mmu.stats().asMap());
        int[] used = mmu.usedMmuPages();
        out.add(new Mmu.Stat("n_used_mmu_pages", used[0]));
        out.add(new Mmu.Stat("n_used_mmu_pages_peak", used[1]));
        out.add(new Mmu.Stat("n_max_mmu_pages", mmu.maxMmuPages()));
        return out;
    }

    @Override
    Walk walk(int vcpu, long gva) {
        return Walks.walk(mmu, cpu(vcpu).vcpuMmu(), gva);
    }

    @Override
    List<String> check() {
        checkLive();
        return MmuChecker.check(mmu);
    }

    @Override
    void release() {
        mmu.zapAll();
        hooks.detach(vm);
    }
}
