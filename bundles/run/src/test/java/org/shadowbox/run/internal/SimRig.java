package org.shadowbox.run.internal;

import java.util.List;

import org.shadowbox.guest.internal.Runner;
import org.shadowbox.guest.internal.scenario.ForkStorm;
import org.shadowbox.guest.internal.scenario.KernelBuild;
import org.shadowbox.guest.internal.scenario.PtReuse;
import org.shadowbox.guest.internal.scenario.Steady;
import org.shadowbox.mmu.internal.osgi.Config;
import org.shadowbox.mmu.internal.osgi.MmuComponent;
import org.shadowbox.mmu.internal.osgi.MmuHooksComponent;
import org.shadowbox.pagetrack.internal.OwnerTrack;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.pagetrack.internal.TrackerRole;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The real hypervisor, page track, MMU component (as SCR wires them: the MMU's own page track,
 * its hooks as write-protect hook, notifier and emulated-write listener, the component a VM listener) and the guest
 * bundle's scenario runner with the built-in scenarios, and a {@link Simulator} over them.
 */
final class SimRig {
    final HypervisorImpl hv = new HypervisorImpl();
    final PageTrackCore core = new PageTrackCore();
    final MmuComponent mmu;
    final Runner runner = new Runner();
    final Simulator sim;

    /** The shadow page cap every VM gets ({@code max.mmu.pages}); 0: KVM's 20 per mille of memory. */
    private final int maxMmuPages;

    SimRig() {
        this(0);
    }

    SimRig(int maxMmuPages) {
        this.maxMmuPages = maxMmuPages;
        hv.addVmListener(core);
        hv.addWriteListener(core);
        OwnerTrack track = core.forOwner("org.shadowbox.mmu", TrackerRole.MMU);
        MmuHooksComponent hooks = new MmuHooksComponent();
        core.setWriteProtectHook(hooks, "org.shadowbox.mmu");
        core.register(hooks, "org.shadowbox.mmu");
        hv.addWriteListener(hooks); // the legacy policy's direct pte-write call from the emulator
        mmu = new MmuComponent(track, hooks, config(maxMmuPages));
        hv.addVmListener(mmu);
        for (var s : List.of(new KernelBuild(), new ForkStorm(), new PtReuse(), new Steady())) {
            runner.add(s);
        }
        sim = new Simulator(hv, mmu, mmu, runner, core.forOwner("org.shadowbox.run"));
    }

    private static Config config(int maxMmuPages) {
        return new Config() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return Config.class;
            }

            @Override
            public int tlb_entries() {
                return Config.DEFAULT_TLB_ENTRIES;
            }

            @Override
            public int root_cache() {
                return Config.DEFAULT_ROOT_CACHE;
            }

            @Override
            public int max_mmu_pages() {
                return maxMmuPages;
            }
        };
    }
}
