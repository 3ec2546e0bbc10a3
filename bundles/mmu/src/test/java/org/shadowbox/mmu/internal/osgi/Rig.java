package org.shadowbox.mmu.internal.osgi;

import java.lang.annotation.Annotation;

import org.shadowbox.pagetrack.internal.OwnerTrack;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.pagetrack.internal.TrackerRole;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The real hypervisor and page track, and the MMU component wired to them as SCR wires it:
 * the component's own page track is the MMU owner's (as the bundle's manifest header makes
 * it), the hooks component is page track's write-protect hook, a notifier for every VM and
 * the hypervisor's emulated-write listener (the legacy policy's direct pte-write call), and
 * the MMU component a VM listener.
 * {@link #stop()} undoes that in SCR's order: services unregistered, deactivate, page track
 * released.
 *
 * <p>The guest {@link #buildTables} makes: PML4 0x200, PDPT 0x201, PD 0x202, PT 0x203;
 * gva 0x400000 maps data page 0x300 (RW, US), gva 0x401000 maps the PD itself (RW,
 * supervisor), gva 0x402000 the PT (RW), gva 0x403000 data page 0x301 (NX).
 */
final class Rig {
    static final String MMU_BUNDLE = "org.shadowbox.mmu";
    static final long P = 1, RW = 2, US = 4, NX = 1L << 63;
    static final long PML4 = 0x200, PDPT = 0x201, PD = 0x202, PT = 0x203, DATA = 0x300, DATA_NX = 0x301;

    final HypervisorImpl hv = new HypervisorImpl();
    final PageTrackCore core = new PageTrackCore();
    MmuComponent mmu;
    MmuHooksComponent hooks;
    private OwnerTrack track;

    Rig() {
        hv.addVmListener(core);
        hv.addWriteListener(core);
    }

    static Config config(int tlbEntries, int rootCache, int maxMmuPages) {
        return new Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return Config.class;
            }

            @Override
            public int tlb_entries() {
                return tlbEntries;
            }

            @Override
            public int root_cache() {
                return rootCache;
            }

            @Override
            public int max_mmu_pages() {
                return maxMmuPages;
            }
        };
    }

    static Config defaults() {
        return config(Config.DEFAULT_TLB_ENTRIES, Config.DEFAULT_ROOT_CACHE, 0);
    }

    MmuComponent start(Config config) {
        track = core.forOwner(MMU_BUNDLE, TrackerRole.MMU);
        hooks = new MmuHooksComponent();
        core.setWriteProtectHook(hooks, MMU_BUNDLE);
        core.register(hooks, MMU_BUNDLE);
        hv.addWriteListener(hooks);
        mmu = new MmuComponent(track, hooks, config);
        hv.addVmListener(mmu);
        return mmu;
    }

    MmuComponent start() {
        return start(defaults());
    }

    void stop() {
        hv.removeVmListener(mmu);
        hv.removeWriteListener(hooks);
        core.unregister(hooks);
        core.setWriteProtectHook(null, MMU_BUNDLE);
        mmu.deactivate();
        track.release();
    }

    Vm vm(String name) {
        return hv.createVm(VmSpec.pc(name, 64L << 20, 2));
    }

    /** A 64-bit VM with one option set ({@code mmu=tdp}, {@code policy=legacy}, ...). */
    Vm vm(String name, String option, String value) {
        return hv.createVm(VmSpec.pc(name, 64L << 20, 2).with(option, value));
    }

    static void pte(GuestMemory mem, long table, int index, long value) {
        mem.write((table << 12) + 8L * index, value, 8);
    }

    /** Host-side: the tables described above, and CR3 of every vCPU at the PML4. */
    static void buildTables(Vm vm) {
        GuestMemory mem = vm.memory();
        pte(mem, PML4, 0, (PDPT << 12) | P | RW | US);
        pte(mem, PDPT, 0, (PD << 12) | P | RW | US);
        pte(mem, PD, 2, (PT << 12) | P | RW | US);
        pte(mem, PT, 0, (DATA << 12) | P | RW | US);
        pte(mem, PT, 1, (PD << 12) | P | RW);
        pte(mem, PT, 2, (PT << 12) | P | RW);
        pte(mem, PT, 3, (DATA_NX << 12) | P | RW | NX);
        mem.write(DATA << 12, 0x1122334455667788L, 8);
        for (int i = 0; i < vm.vcpuCount(); i++) {
            vm.vcpu(i).set(org.shadowbox.vm.Register.CR3, PML4 << 12);
        }
    }
}
