package org.shadowbox.bench;

import java.lang.annotation.Annotation;
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
import org.shadowbox.run.internal.Simulator;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The hypervisor, page track and the MMU component wired as SCR wires them (the MMU's own page
 * track, its hooks as write-protect hook and notifier, the component a VM listener), the guest
 * bundle's scenario runner and the run bundle's {@link Simulator}, without a framework. Also a
 * 64-bit guest page table built host-side, for the MMU benchmarks.
 */
final class MmuSandbox {
    static final long P = 1, RW = 2, US = 4, A = 1 << 5, D = 1 << 6;
    final HypervisorImpl hypervisor = new HypervisorImpl();
    final PageTrackCore pageTrack = new PageTrackCore();
    final MmuHooksComponent hooks = new MmuHooksComponent();
    final MmuComponent mmu;
    final Runner runner = new Runner();
    final Simulator simulator;

    MmuSandbox(int maxMmuPages) {
        hypervisor.addVmListener(pageTrack);
        hypervisor.addWriteListener(pageTrack);
        OwnerTrack track = pageTrack.forOwner("org.shadowbox.mmu", TrackerRole.MMU);
        pageTrack.setWriteProtectHook(hooks, "org.shadowbox.mmu");
        pageTrack.register(hooks, "org.shadowbox.mmu");
        hypervisor.addWriteListener(hooks); // the legacy policy's direct pte-write call from the emulator
        mmu = new MmuComponent(track, hooks, config(maxMmuPages));
        hypervisor.addVmListener(mmu);
        for (var s : List.of(new KernelBuild(), new ForkStorm(), new PtReuse(), new Steady())) {
            runner.add(s);
        }
        simulator = new Simulator(hypervisor, mmu, mmu, runner, pageTrack.forOwner("org.shadowbox.run"));
    }

    private static Config config(int maxMmuPages) {
        return new Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
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

    /**
     * Host-side 4-level tables at CR3 {@code pml4 << 12} mapping {@code tables} x 512 user pages
     * from gva 0x4000_0000: PTE table {@code t} is gfn {@code pd + 1 + t}; every entry maps one of
     * {@code dataPages} data pages from gfn {@code data} (aliases are fine); then every vCPU gets
     * 64-bit paging and that CR3.
     */
    static void buildTables(Vm vm, long pml4, int tables, long data, int dataPages) {
        GuestMemory mem = vm.memory();
        long pdpt = pml4 + 1;
        long pd = pml4 + 2;
        mem.write(pml4 << 12, (pdpt << 12) | P | RW | US | A, 8);
        mem.write((pdpt << 12) + 8, (pd << 12) | P | RW | US | A, 8); // gva 0x4000_0000: PDPTE 1
        for (int t = 0; t < tables; t++) {
            long pt = pd + 1 + t;
            mem.write((pd << 12) + 8L * t, (pt << 12) | P | RW | US | A, 8);
            for (int i = 0; i < 512; i++) {
                long page = data + (t * 512L + i) % dataPages;
                mem.write((pt << 12) + 8L * i, (page << 12) | P | RW | US | A | D, 8);
            }
        }
        for (int i = 0; i < vm.vcpuCount(); i++) {
            vm.vcpu(i).set(Register.CR4, Register.CR4_PAE);
            vm.vcpu(i).set(Register.EFER, Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE);
            vm.vcpu(i).set(Register.CR0, Register.CR0_PE | Register.CR0_PG | Register.CR0_WP);
            vm.vcpu(i).set(Register.CR3, pml4 << 12);
        }
    }

    /** The first gva the tables of {@link #buildTables} map. */
    static final long GVA = 0x4000_0000L;
}
