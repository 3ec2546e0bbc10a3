package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Hashtable;
import java.util.List;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;

/**
 * TDP and the legacy policy in the real framework: VMs created through the {@link Hypervisor}
 * service with {@code mmu=tdp} or {@code policy=legacy} are served by the mmu bundle; the guest
 * runs through the {@link Mmu} service's {@link GuestCpu}; under TDP an external tracker (this
 * test bundle, KVMGT's role) has its tracked page emulated and is notified; under legacy each
 * page-table write reaches the pte-write handler (the writeflood bundle's, when it runs) once,
 * from the emulator, while under pagetrack both notifiers deliver it and one is ignored;
 * {@code mmu:check} is clean.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class MmuModesTest {
    static final long PML4 = 0x200, PDPT = 0x201, PD = 0x202, PT = 0x203, DATA = 0x300;
    /** gva 0x400000 maps DATA; gva 0x401000 maps the PD itself (a window on a page table). */
    static final long GVA = 0x400000, PD_WINDOW = 0x401000;

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    PageTrack pageTrack;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Mmu mmu;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;

    private final List<Vm> vms = new ArrayList<>();

    @AfterEach
    void destroyVms() {
        vms.forEach(vm -> Itest.destroyQuietly(hypervisor, vm));
    }

    /** A VM with {@code option=value}, guest tables built host-side, CR3 of both vCPUs at the PML4. */
    private Vm vm(String prefix, String option, String value) {
        Vm vm = hypervisor.createVm(VmSpec.pc(prefix + "-" + System.nanoTime(), 64L << 20, 2).with(option, value));
        vms.add(vm);
        pte(vm, PML4, 0, (PDPT << 12) | 7);
        pte(vm, PDPT, 0, (PD << 12) | 7);
        pte(vm, PD, 2, (PT << 12) | 7);
        pte(vm, PT, 0, (DATA << 12) | 7);
        pte(vm, PT, 1, (PD << 12) | 3);
        vm.memory().write(DATA << 12, 0x5a5a, 8);
        for (int i = 0; i < vm.vcpuCount(); i++) {
            vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
        return vm;
    }

    private static void pte(Vm vm, long table, int index, long value) {
        vm.memory().write((table << 12) + 8L * index, value, 8);
    }

    private long stat(Vm vm, String name) {
        return mmu.stats(vm).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no stat " + name)).value();
    }

    private void checkClean(Vm vm) throws Exception {
        assertEquals(List.of(), mmu.check(vm));
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            String check = gogo.run("mmu:check " + vm.name()); // the command's record, unrendered
            assertTrue(check.contains("result=ok"), check);
        }
    }

    @Test
    void aTdpVmRunsThroughTheMmuAndAnExternalTrackersPageIsEmulatedAndNotified() throws Exception {
        Vm vm = vm("itest-tdp", VmSpec.MMU, VmSpec.MMU_TDP);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.read(GVA, 8, false));
        assertEquals(0x5a5a, cpu.value());
        assertTrue(cpu.write(PD_WINDOW + 8 * 4, (PT << 12) | 3, 8, false));
        assertFalse(cpu.emulated(), "under TDP the guest writes its page tables natively");
        assertTrue(pageTrack.tracked(vm).isEmpty(), "the TDP MMU tracks nothing");

        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(PageTrackNotifier.VM_PROPERTY, vm.name());
        ServiceRegistration<PageTrackNotifier> reg = context.registerService(PageTrackNotifier.class,
                new PageTrackNotifier() {
                    @Override
                    public void trackWrite(Vm v, int vcpuId, long gpa, long value, int bytes) {
                        seen.add("vcpu" + vcpuId + " 0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(value));
                    }
                }, props);
        try {
            Itest.await("page track attaches the tracker", () -> Itest.attached(pageTrack, vm, Itest.serviceId(reg)));
            pageTrack.add(vm, DATA, TrackMode.WRITE); // write-protects the TDP leaf through the MMU's hook
            long tracked = stat(vm, "pf_emulate_tracked");
            assertTrue(cpu.write(GVA + 8, 0x77, 8, false));
            assertTrue(cpu.emulated(), "the TDP violation asked page track first: emulated");
            assertEquals(tracked + 1, stat(vm, "pf_emulate_tracked"));
            assertEquals(List.of("vcpu0 0x300008=0x77"), seen, "the external tracker was told");
            assertTrue(cpu.read(GVA + 8, 8, false));
            assertEquals(0x77, cpu.value());
            checkClean(vm);
            try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
                String walk = gogo.run("mmu:walk " + vm.name() + " 0 0x400000");
                assertTrue(walk.contains("; tdp: gfn 0x300: leaf at level"), walk);
            }
        } finally {
            pageTrack.remove(vm, DATA, TrackMode.WRITE);
            reg.unregister();
        }
    }

    /**
     * The same page-table writes on a legacy and a pagetrack VM: the same guest results; under
     * legacy each write was handed to {@code kvm_mmu_pte_write} by the emulator and no notifier
     * delivery was looked at; under pagetrack it came by the notifiers. Either way it was
     * processed once (by the writeflood bundle's handler when bound, else the fallback).
     */
    @Test
    void aLegacyVmSeesWhatAPagetrackVmSeesAndEachWriteIsProcessedOnce() throws Exception {
        Vm legacy = vm("itest-legacy", VmSpec.POLICY, VmSpec.POLICY_LEGACY);
        Vm pagetrack = vm("itest-pagetrack", VmSpec.POLICY, VmSpec.POLICY_PAGETRACK);
        List<String> results = new ArrayList<>();
        for (Vm vm : List.of(legacy, pagetrack)) {
            GuestCpu cpu = mmu.cpu(vm, 1);
            StringBuilder r = new StringBuilder();
            assertTrue(cpu.read(GVA, 8, false));
            r.append(cpu.value()).append(cpu.emulated());
            for (int i = 0; i < 3; i++) {
                assertTrue(cpu.write(PD_WINDOW + 8 * 4, i == 1 ? 0 : (PT << 12) | 3, 8, false));
                r.append(' ').append(cpu.gpa()).append(cpu.emulated());
            }
            assertTrue(cpu.read(0x800000, 8, false), "PD entry 4 maps the PT again");
            r.append(' ').append(cpu.value());
            results.add(r.toString());
            checkClean(vm);
        }
        assertEquals(results.get(0), results.get(1), "the guest cannot tell the policies apart");
        String emulatedPde = " " + ((PD << 12) + 8 * 4) + "true";
        assertEquals("23130false" + emulatedPde.repeat(3) + " 23130", results.get(0),
                "the data read natively, each PDE write emulated, the new PDE in effect");

        long legacyWrites = stat(legacy, "pte_write_emulator");
        assertEquals(3, legacyWrites, "the emulator called kvm_mmu_pte_write for each write");
        assertEquals(3, stat(legacy, "mmu_pte_write_handled") + stat(legacy, "mmu_pte_write_fallback"),
                "each write processed once, by the handler or the fallback");
        assertEquals(0, stat(legacy, "pf_emulate_tracked"), "no page-track fast path under legacy");
        assertEquals(0, stat(pagetrack, "pte_write_emulator"));
        assertEquals(3, stat(pagetrack, "mmu_pte_write_handled") + stat(pagetrack, "mmu_pte_write_fallback"));
        assertTrue(pageTrack.tracked(legacy).isEmpty(), "the legacy MMU holds no page-track count");
        assertFalse(pageTrack.tracked(pagetrack).isEmpty());
    }
}
