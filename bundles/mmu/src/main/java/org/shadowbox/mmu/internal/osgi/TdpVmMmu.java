package org.shadowbox.mmu.internal.osgi;

import org.shadowbox.vm.spi.Platform;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.ShadowPageInfo;
import org.shadowbox.mmu.Walk;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.mmu.internal.tdp.TdpChecker;
import org.shadowbox.mmu.internal.tdp.TdpHooks;
import org.shadowbox.mmu.internal.tdp.TdpMmu;

/**
 * A VM under TDP ({@code mmu=tdp}) as the {@link Mmu} service shows it: its {@link TdpMmu},
 * one {@link TdpGuestCpu} per vCPU. No guest table is shadowed, so {@link #shadowPages} lists
 * the TDP table pages, as KVM's direct shadow pages ({@code role.direct}): gfn is the first
 * guest frame the table maps, the root is held by every vCPU, every other table has one parent.
 */
final class TdpVmMmu extends VmMmu<TdpGuestCpu> {
    final TdpMmu mmu;
    private final TdpHooks hooks;

    TdpVmMmu(TdpHooks hooks, TdpMmu mmu) {
        super(mmu.vm());
        this.hooks = hooks;
        this.mmu = mmu;
        TdpGuestCpu[] cpus = new TdpGuestCpu[mmu.vcpuCount()];
        for (int i = 0; i < cpus.length; i++) {
            cpus[i] = new TdpGuestCpu(this, mmu.vcpu(i));
        }
        cpus(cpus);
    }

    /** The TDP table pages, newest (highest id) first, as direct shadow pages. */
    @Override
    List<ShadowPageInfo> shadowPages() {
        checkLive();
        List<ShadowPageInfo> out = new ArrayList<>();
        Platform.mmuLock(vm).lock();
        try {
            for (int id = mmu.idLimit() - 1; id > 0; id--) {
                if (!mmu.live(id)) {
                    continue;
                }
                int level = mmu.tableLevel(id);
                boolean root = id == mmu.root();
                out.add(new ShadowPageInfo(id, mmu.tableGfn(id), level, "l" + level + " direct tdp", true, false, 0,
                        root ? 0 : 1, root ? mmu.vcpuCount() : 0));
            }
        } finally {
            Platform.mmuLock(vm).unlock();
        }
        return out;
    }

    /** The present non-leaf entries of every live TDP table, under the MMU lock. */
    @Override
    List<Mmu.Link> shadowLinks() {
        checkLive();
        List<Mmu.Link> out = new ArrayList<>();
        Platform.mmuLock(vm).lock();
        try {
            for (int id = mmu.idLimit() - 1; id > 0; id--) {
                if (!mmu.live(id)) {
                    continue;
                }
                int level = mmu.tableLevel(id);
                for (int i = 0; i < Spte.ENTRIES; i++) {
                    long e = mmu.entry(id, i);
                    if (level > 1 && Spte.isPresent(e) && !Spte.isLast(e, level)) {
                        out.add(new Mmu.Link(id, i, Spte.childId(e)));
                    }
                }
            }
        } finally {
            Platform.mmuLock(vm).unlock();
        }
        return out;
    }

    /** The TDP MMU's counters by KVM's names, then {@code n_used_mmu_pages} (TDP table pages). */
    @Override
    List<Mmu.Stat> stats() {
        checkLive();
        List<Mmu.Stat> out = stats(mmu.stats().asMap());
        Platform.mmuLock(vm).lock();
        try {
            out.add(new Mmu.Stat("n_used_mmu_pages", mmu.tablePages()));
        } finally {
            Platform.mmuLock(vm).unlock();
        }
        return out;
    }

    @Override
    Walk walk(int vcpu, long gva) {
        return TdpWalks.walk(mmu, cpu(vcpu).tdpVcpu(), gva);
    }

    /**
     * Every vCPU between two accesses: the checker's TLB rule (f) reads each vCPU's TLB, its
     * flush count and the guest tables its entries were filled from, which the vCPU changes
     * with no exit and no lock of the VM's; a vCPU caught inside an access showed an entry
     * filled before its flush count moved, or a table half written (issue 13).
     */
    @Override
    <T> T atSafePoint(Supplier<T> body) {
        return lockAllVcpus(SAFE_POINT_TIMEOUT_MS, body);
    }

    /** How long the checker waits for one vCPU to finish its access (as long as for an emulated write). */
    static final long SAFE_POINT_TIMEOUT_MS = 5000;

    @Override
    List<String> check() {
        checkLive();
        return TdpChecker.check(mmu);
    }

    @Override
    void release() {
        mmu.zapAll();
        hooks.detach(vm);
    }
}
