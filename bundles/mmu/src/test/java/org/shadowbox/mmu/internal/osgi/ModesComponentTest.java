package org.shadowbox.mmu.internal.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.ShadowPageInfo;
import org.shadowbox.mmu.Walk;
import org.shadowbox.mmu.meter.MmuMeter;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * TDP and the legacy policy through the MMU component, wired as SCR wires it ({@link Rig}):
 * the {@link Mmu} service's calls on a TDP VM (guest accesses, walk, TDP tables as direct
 * pages, stats, checker, flush), an external tracker under TDP, and a legacy VM whose guest
 * sees what a pagetrack VM's guest sees while its page-table writes take the emulator's
 * direct route, processed once.
 */
class ModesComponentTest {

    private final Rig rig = new Rig();

    private static long stat(Mmu mmu, Vm vm, String name) {
        return mmu.stats(vm).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no stat " + name + " in " + mmu.stats(vm))).value();
    }

    @Test
    void aTdpVmRunsGuestAccessesAndShowsItsTablesStatsWalkAndChecker() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("tdp", VmSpec.MMU, VmSpec.MMU_TDP);
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertSame(cpu, mmu.cpu(vm, 0), "one reused object per vCPU");
        assertTrue(cpu.read(0x400000, 8, true));
        assertEquals(0x1122334455667788L, cpu.value());
        assertEquals(Rig.DATA << 12, cpu.gpa());
        assertFalse(cpu.emulated());
        assertTrue(stat(mmu, vm, "pf_fixed") > 0, "TDP violations fixed by mapping the frames");

        // The guest writes its own page directory natively: nothing is shadowed or tracked under TDP.
        assertTrue(cpu.write(0x401000 + 8 * 4, (Rig.PT << 12) | Rig.P | Rig.RW, 8, false));
        assertFalse(cpu.emulated(), "under TDP a guest page-table write runs natively");
        assertTrue(rig.core.forOwner("probe").tracked(vm).isEmpty(), "the TDP MMU tracks nothing");
        cpu.invlpg(0x800000);
        assertTrue(cpu.read(0x800000, 8, false), "PD entry 4 now reuses the PT");
        assertEquals(0x1122334455667788L, cpu.value());
        assertFalse(cpu.read(0xc00000, 8, false));
        assertEquals(GuestCpu.PAGE_FAULT, cpu.exception());
        assertEquals(0, cpu.errorCode(), "the guest's own #PF, delivered without an exit");

        Walk w = mmu.walk(vm, 0, 0x400000);
        assertEquals(List.of(4, 3, 2, 1), w.guest().stream().map(Walk.Step::level).toList());
        assertEquals(List.of(4, 3, 2), w.shadow().stream().map(Walk.Step::level).toList(),
                "gfn 0x300 lies in a 2 MiB frame inside slot 1: a large TDP leaf");
        assertTrue(w.result().startsWith("guest: gpa 0x300000 (4 KiB page, user, writable)"), w.result());
        assertTrue(w.result().endsWith("tdp: gfn 0x300: leaf at level 2 (2 MiB), writable"), w.result());
        assertTrue(w.shadow().get(0).address().startsWith("tdp"), w.shadow().toString());

        List<ShadowPageInfo> pages = mmu.shadowPages(vm);
        assertTrue(pages.stream().allMatch(p -> p.direct() && !p.unsync() && p.role().endsWith("direct tdp")), pages
                .toString());
        assertEquals(List.of(2), pages.stream().filter(p -> p.level() == 4).map(ShadowPageInfo::rootCount).toList(),
                "one root, held by both vCPUs");
        assertEquals(pages.size(), stat(mmu, vm, "n_used_mmu_pages"));
        List<String> names = mmu.stats(vm).stream().map(Mmu.Stat::name).toList();
        assertTrue(names.containsAll(List.of("pf_taken", "pf_fixed", "pf_emulate", "tlb_flush", "remote_tlb_flush",
                "mmu_cache_miss", "lpages")), names.toString());

        assertTrue(cpu.read(0x400000, 8, false)); // refills the TLB the INVLPG emptied
        long misses = stat(mmu, vm, "tlb_miss");
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(misses, stat(mmu, vm, "tlb_miss"), "a TLB hit");
        mmu.flush(vm, -1);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(misses + 1, stat(mmu, vm, "tlb_miss"), "flushed before the access");
        assertThrows(VmException.class, () -> mmu.flush(vm, 2));
        assertEquals(List.of(), mmu.check(vm));

        // The meter: vCPU 0 did every access; its work by mode adds up to the VM's counters.
        Map<String, Long> user = rig.mmu.work(vm, 0, true);
        Map<String, Long> sup = rig.mmu.work(vm, 0, false);
        assertEquals(1, user.get(MmuMeter.ACCESSES), "one user-mode access");
        assertEquals(6, sup.get(MmuMeter.ACCESSES));
        for (String name : List.of("exits", "pf_taken", "pf_fixed", "mmu_cache_miss", "tlb_walk_steps", "invlpg")) {
            assertEquals(stat(mmu, vm, name), user.get(name) + sup.get(name), name + ": " + user + " / " + sup);
        }
        assertTrue(user.get("exits") > 0 && user.get("tlb_walk_steps") > 0, user.toString());
    }

    /** KVMGT under TDP: the TDP fault asks page track first, so a tracked page's writes are emulated and notified. */
    @Test
    void anExternalTrackersPageIsEmulatedAndNotifiedUnderTdp() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("kvmgt", VmSpec.MMU, VmSpec.MMU_TDP);
        Rig.buildTables(vm);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        rig.core.register(new PageTrackNotifier() {
            @Override
            public void trackWrite(Vm v, int vcpuId, long gpa, long value, int bytes) {
                seen.add("0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(value) + "/" + bytes);
            }
        }, "test.kvmgt", vm.name());
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.write(0x400008, 1, 8, false));
        assertFalse(cpu.emulated(), "untracked: mapped writable, written natively");
        assertEquals(List.of(), seen);

        PageTrack kvmgt = rig.core.forOwner("test.kvmgt");
        kvmgt.add(vm, Rig.DATA, TrackMode.WRITE); // write-protects the large leaf through the hook
        assertTrue(stat(mmu, vm, "gfn_write_protect") > 0, "page track's hook reached the TDP MMU");
        long tracked = stat(mmu, vm, "pf_emulate_tracked");
        assertTrue(cpu.write(0x400010, 0xbeef, 4, false));
        assertTrue(cpu.emulated(), "a write to a tracked page is emulated");
        assertEquals(tracked + 1, stat(mmu, vm, "pf_emulate_tracked"), "page_fault_handle_page_track sent it there");
        assertEquals(List.of("0x300010=0xbeef/4"), seen, "and the tracker was told");
        assertEquals(0xbeef, vm.memory().read((Rig.DATA << 12) + 0x10, 4));
        assertTrue(cpu.read(0x400010, 4, false));
        assertEquals(0xbeef, cpu.value());
        assertFalse(cpu.emulated(), "reads of a tracked page run natively");
        assertEquals(List.of(), mmu.check(vm));

        kvmgt.remove(vm, Rig.DATA, TrackMode.WRITE);
        assertTrue(cpu.write(0x400010, 2, 4, false));
        assertFalse(cpu.emulated(), "untracked again: the next write fault makes the leaf writable");
        assertEquals(1, seen.size());
        assertEquals(List.of(), mmu.check(vm));
    }

    @Test
    void stoppingTheMmuReleasesTdpVmsAndStartingAgainServesThem() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("tdp", VmSpec.MMU, VmSpec.MMU_TDP);
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.read(0x400000, 8, false));
        rig.stop();
        String gone = assertThrows(VmException.class, () -> cpu.read(0x400000, 8, false)).getMessage();
        assertTrue(gone.startsWith("the MMU of VM tdp is gone"), gone);
        Mmu again = rig.start();
        assertTrue(again.cpu(vm, 0).read(0x400000, 8, false));
        assertEquals(0x1122334455667788L, again.cpu(vm, 0).value());
        assertEquals(List.of(), again.check(vm));
    }

    /**
     * The same guest steps on a pagetrack VM and a legacy VM: identical guest-visible results;
     * under legacy the MMU holds no page-track count, takes no fast path, and each page-table
     * write reaches the pte-write code once, from the emulator, although the MMU's notifier is
     * attached to the VM too.
     */
    @Test
    void aLegacyVmSeesWhatAPagetrackVmSeesAndEachPageTableWriteIsProcessedOnce() {
        Mmu mmu = rig.start();
        Vm pt = rig.vm("pagetrack");
        Vm lg = rig.vm("legacy", VmSpec.POLICY, VmSpec.POLICY_LEGACY);
        List<String> seen = new ArrayList<>();
        for (Vm vm : List.of(pt, lg)) {
            Rig.buildTables(vm);
            GuestCpu cpu = mmu.cpu(vm, 0);
            List<String> r = new ArrayList<>();
            r.add(outcome(cpu, cpu.read(0x400000, 8, false)));
            r.add(outcome(cpu, cpu.write(0x401000 + 8 * 4, (Rig.PT << 12) | Rig.P | Rig.RW, 8, false)));
            r.add(outcome(cpu, cpu.read(0x401000 + 8 * 4, 8, false)));
            r.add(outcome(cpu, cpu.write(0x401000 + 8 * 5, 0, 8, false)));
            r.add(outcome(cpu, cpu.read(0x800000, 8, false)));
            r.add(outcome(cpu, cpu.write(0x401000 + 8 * 4, 0, 8, false)));
            cpu.invlpg(0x800000);
            r.add(outcome(cpu, cpu.read(0x800000, 8, false)));
            r.add(outcome(cpu, cpu.write(0x400000, 5, 8, true)));
            seen.add(String.join("; ", r));
            assertEquals(List.of(), mmu.check(vm), vm.name());
        }
        assertEquals(seen.get(0), seen.get(1), "the guest cannot tell the policies apart");
        assertTrue(seen.get(0).contains("ok gpa 0x202020 value 0x203003 emulated"), seen.get(0));

        assertEquals(List.of(Rig.PML4, Rig.PDPT, Rig.PD), mmuTracked(pt), "pagetrack: non-leaf tables tracked");
        assertEquals(List.of(), mmuTracked(lg), "legacy: no page-track count is held");
        assertEquals(0, stat(mmu, lg, "pf_emulate_tracked"), "legacy has no page-track fast path");
        assertTrue(stat(mmu, pt, "pf_emulate_tracked") > 0);
        assertEquals(stat(mmu, lg, "pf_emulate"), stat(mmu, lg, "pte_write_emulator"),
                "every emulated page-table write was handed to kvm_mmu_pte_write by the emulator");
        assertEquals(0, stat(mmu, pt, "pte_write_emulator"));
        assertEquals(stat(mmu, pt, "mmu_pte_write_fallback"), stat(mmu, lg, "mmu_pte_write_fallback"),
                "one fallback zap per write under both policies, not one per route");
        assertTrue(stat(mmu, lg, "mmu_pte_write_fallback") > 0);
    }

    /** What the guest saw: the gpa and (for a read) the value, or the fault; and whether it was emulated. */
    private static String outcome(GuestCpu cpu, boolean ok) {
        return (ok ? "ok gpa 0x" + Long.toHexString(cpu.gpa()) + " value 0x" + Long.toHexString(cpu.value())
                : "fault " + cpu.exception() + "/" + cpu.errorCode()) + (cpu.emulated() ? " emulated" : "");
    }

    private List<Long> mmuTracked(Vm vm) {
        return rig.core.forOwner("probe").tracked(vm).stream().filter(p -> p.owners().containsKey(Rig.MMU_BUNDLE))
                .map(TrackedPage::gfn).sorted().collect(Collectors.toList());
    }
}
