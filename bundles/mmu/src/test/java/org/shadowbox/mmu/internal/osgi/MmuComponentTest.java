package org.shadowbox.mmu.internal.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.ShadowPageInfo;
import org.shadowbox.mmu.Walk;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/** The MMU component against the real hypervisor and page track, wired as SCR wires it. */
class MmuComponentTest {

    private final Rig rig = new Rig();

    private static long stat(Mmu mmu, Vm vm, String name) {
        return mmu.stats(vm).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no stat " + name)).value();
    }

    private TreeSet<Long> mmuTracked(Vm vm) {
        return rig.core.forOwner("probe").tracked(vm).stream().filter(p -> p.owners().containsKey(Rig.MMU_BUNDLE))
                .map(TrackedPage::gfn).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void guestAccessesSeeValuesFaultsAndEmulation() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("g");
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertSame(cpu, mmu.cpu(vm, 0), "one reused object per vCPU");
        assertSame(vm.vcpu(0), cpu.vcpu());

        assertTrue(cpu.read(0x400000, 8, true));
        assertEquals(0x1122334455667788L, cpu.value());
        assertEquals(Rig.DATA << 12, cpu.gpa());
        assertFalse(cpu.emulated());
        assertEquals(GuestCpu.NO_EXCEPTION, cpu.exception());
        assertEquals(1, stat(mmu, vm, "pf_fixed"), "one fault fixed by installing sptes");

        assertTrue(cpu.write(0x400010, 0xabcd, 2, true));
        assertEquals(0xabcd, vm.memory().read((Rig.DATA << 12) + 0x10, 2));
        assertFalse(cpu.emulated(), "a data page is written natively");

        assertFalse(cpu.read(0x800000, 8, false), "PD entry 4 is not present");
        assertEquals(GuestCpu.PAGE_FAULT, cpu.exception());
        assertEquals(0, cpu.errorCode(), "not present, read, supervisor");
        assertEquals(0x800000, vm.vcpu(0).get(Register.CR2));

        assertFalse(cpu.write(0x401000, 1, 8, true), "the PD's mapping is supervisor-only");
        assertEquals(0x7, cpu.errorCode(), "P|W|U");
        assertFalse(cpu.fetch(0x403000, 1, false), "NX page");
        assertEquals(0x11, cpu.errorCode(), "P|I/D");
        assertFalse(cpu.read(0x0000_8000_0000_0000L, 8, false));
        assertEquals(GuestCpu.GENERAL_PROTECTION, cpu.exception(), "non-canonical");
        assertTrue(cpu.fetch(0x400000, 4, false));
        assertEquals(0x55667788L, cpu.value());
        assertEquals(List.of(), mmu.check(vm));
    }

    @Test
    void aWriteToAShadowedPageTableIsEmulatedAndTheShadowStaysCoherent() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("pt");
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(new TreeSet<>(List.of(Rig.PML4, Rig.PDPT, Rig.PD)), mmuTracked(vm),
                "account_shadowed: the non-leaf tables are write-tracked by the MMU");
        long emulate = stat(mmu, vm, "pf_emulate");
        long fallback = stat(mmu, vm, "mmu_pte_write_fallback_zapped");

        // PD entry 4 through the PD's own mapping: a not-present write fault installs a read-only
        // spte and emulates; the second write is a present write fault: page_fault_handle_page_track.
        assertTrue(cpu.write(0x401000 + 8 * 4, (Rig.PT << 12) | Rig.P | Rig.RW, 8, false));
        assertTrue(cpu.emulated(), "the PD is write-tracked: the write is emulated");
        assertEquals(emulate + 1, stat(mmu, vm, "pf_emulate"));
        assertEquals(fallback + 1, stat(mmu, vm, "mmu_pte_write_fallback_zapped"),
                "without kvm_mmu_pte_write the PD's shadow page is zapped");
        assertEquals(List.of(), mmu.check(vm));
        assertTrue(cpu.write(0x401000 + 8 * 5, 0, 8, false));
        assertTrue(cpu.emulated());
        assertEquals(emulate + 2, stat(mmu, vm, "pf_emulate"));

        assertTrue(cpu.read(0x800000, 8, false), "the new PD entry 4 reuses the PT: gva 0x800000 -> data");
        assertEquals(0x1122334455667788L, cpu.value());
        assertEquals(List.of(), mmu.check(vm));
    }

    @Test
    void aCr3WriteSwitchesRootsAndACachedRootComesBack() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("cr3");
        Rig.buildTables(vm);
        long pml4b = 0x210, pdptb = 0x211, pdb = 0x212, ptb = 0x213;
        Rig.pte(vm.memory(), pml4b, 0, (pdptb << 12) | 7);
        Rig.pte(vm.memory(), pdptb, 0, (pdb << 12) | 7);
        Rig.pte(vm.memory(), pdb, 2, (ptb << 12) | 7);
        Rig.pte(vm.memory(), ptb, 0, (0x302L << 12) | 7);
        vm.memory().write(0x302000, 42, 8);
        GuestCpu cpu = mmu.cpu(vm, 1);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(0x1122334455667788L, cpu.value());

        cpu.writeRegister(Register.CR3, pml4b << 12);
        assertEquals(pml4b << 12, vm.vcpu(1).get(Register.CR3));
        assertEquals(Map.of(Rig.PML4, 1, pml4b, 1), roots(mmu, vm), "new root loaded, the old one cached");
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(42, cpu.value(), "the new tables translate");

        long misses = stat(mmu, vm, "mmu_cache_miss");
        cpu.writeRegister(Register.CR3, Rig.PML4 << 12);
        assertEquals(misses, stat(mmu, vm, "mmu_cache_miss"), "the cached root is reused");
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(0x1122334455667788L, cpu.value());
        assertEquals(List.of(), mmu.check(vm));
    }

    private static Map<Long, Integer> roots(Mmu mmu, Vm vm) {
        return mmu.shadowPages(vm).stream().filter(p -> p.rootCount() > 0)
                .collect(Collectors.toMap(ShadowPageInfo::gfn, ShadowPageInfo::rootCount));
    }

    /** Mmu.shadowLinks: the edges of the tree mmu:pages lists, under shadow paging and under TDP. */
    @Test
    void shadowLinksAreTheTreeUnderEachRoot() {
        Mmu mmu = rig.start();
        for (VmSpec spec : List.of(VmSpec.pc("s", 64L << 20, 1),
                VmSpec.pc("t", 64L << 20, 1).with(VmSpec.MMU, VmSpec.MMU_TDP))) {
            Vm vm = rig.hv.createVm(spec);
            Rig.buildTables(vm);
            GuestCpu cpu = mmu.cpu(vm, 0);
            assertTrue(cpu.read(0x400000, 8, false));
            assertTrue(cpu.write(0x400010, 1, 8, false));
            assertTrue(cpu.fetch(0x400000, 4, false));
            Map<Integer, ShadowPageInfo> pages = mmu.shadowPages(vm).stream()
                    .collect(Collectors.toMap(ShadowPageInfo::id, p -> p));
            List<Mmu.Link> links = mmu.shadowLinks(vm);
            assertFalse(links.isEmpty(), spec.toString());
            java.util.Map<Integer, Integer> parents = new java.util.HashMap<>();
            for (Mmu.Link l : links) {
                ShadowPageInfo parent = pages.get(l.parent());
                ShadowPageInfo child = pages.get(l.child());
                assertTrue(parent != null && child != null, l + " joins pages mmu:pages lists");
                assertEquals(parent.level() - 1, child.level(), l + ": one level down");
                assertTrue(l.index() >= 0 && l.index() < 512, l.toString());
                parents.merge(l.child(), 1, Integer::sum);
            }
            for (ShadowPageInfo p : pages.values()) {
                assertEquals(p.parents(), (int) parents.getOrDefault(p.id(), 0), "parents of " + p);
                assertTrue(p.rootCount() > 0 || p.parents() > 0, "every page hangs under a root: " + p);
            }
        }
    }

    @Test
    void everyCombinationIsServedAndTdpLegacyRefusesExternalTracksInOneLine() {
        Mmu mmu = rig.start();
        Vm both = rig.hv.createVm(VmSpec.pc("both", 64L << 20, 1).with(VmSpec.MMU, VmSpec.MMU_TDP)
                .with(VmSpec.POLICY, VmSpec.POLICY_LEGACY));
        Rig.buildTables(both);
        assertTrue(mmu.cpu(both, 0).write(0x400000, 1, 8, false), "served: the pre-series TDP path");
        assertEquals(List.of(), mmu.check(both));
        String refused = assertThrows(VmException.class, () -> rig.core.forOwner("probe").add(both, Rig.DATA,
                TrackMode.WRITE)).getMessage();
        assertEquals("cannot track pages of VM both (owner probe): it runs mmu=tdp with policy=legacy, KVM's TDP fault"
                + " path from before page track, which never asks it; track pages on a VM with policy=pagetrack (the"
                + " default)", refused);
        assertEquals(0, rig.core.forOwner("probe").count(both, Rig.DATA, TrackMode.WRITE), "nothing changed");
        assertTrue(rig.core.forOwner("probe").tracked(both).isEmpty());
        assertEquals(0, both.slotForGfn(Rig.DATA).lpageDisallowCount(Rig.DATA, 2), "large pages still allowed");
        for (String paging : List.of(VmSpec.PAGING_64, VmSpec.PAGING_PAE, VmSpec.PAGING_32, VmSpec.PAGING_OFF)) {
            for (VmSpec spec : List.of(VmSpec.pc("s" + paging, 64L << 20, 1),
                    VmSpec.pc("l" + paging, 64L << 20, 1).with(VmSpec.POLICY, VmSpec.POLICY_LEGACY),
                    VmSpec.pc("t" + paging, 64L << 20, 1).with(VmSpec.MMU, VmSpec.MMU_TDP),
                    VmSpec.pc("tl" + paging, 64L << 20, 1).with(VmSpec.MMU, VmSpec.MMU_TDP)
                            .with(VmSpec.POLICY, VmSpec.POLICY_LEGACY))) {
                Vm vm = rig.hv.createVm(spec.with(VmSpec.PAGING, paging));
                assertSame(vm.vcpu(0), mmu.cpu(vm, 0).vcpu(), spec.toString());
                assertEquals(List.of(), mmu.check(vm), spec.toString());
            }
        }
    }

    @Test
    void aVmStartingWithPagingOffIsServedByTheIdentityMapThenByItsTables() {
        Mmu mmu = rig.start();
        Vm vm = rig.hv.createVm(VmSpec.pc("off", 64L << 20, 1).with(VmSpec.PAGING, VmSpec.PAGING_OFF));
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.read((Rig.DATA << 12) | 0x1_0000_0000L, 8, false), "paging off: the gva's 32 bits are the gpa");
        assertEquals(0x1122334455667788L, cpu.value());
        assertEquals(Rig.DATA << 12, cpu.gpa());
        assertEquals(List.of(), mmu.check(vm));
        String walk = mmu.walk(vm, 0, Rig.DATA << 12).result();
        assertTrue(walk.startsWith("paging off: gpa = gva 0x" + Long.toHexString(Rig.DATA << 12)) && walk.contains("leaf at level"),
                walk);
        cpu.writeRegister(Register.CR4, Register.CR4_PAE);
        cpu.writeRegister(Register.EFER, Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE);
        cpu.writeRegister(Register.CR0, Register.CR0_PG | Register.CR0_PE | Register.CR0_WP);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(0x1122334455667788L, cpu.value());
    }

    @Test
    void vmsThatExistedBeforeTheMmuStartedAreServed() {
        Vm before = rig.vm("before");
        Rig.buildTables(before);
        Mmu mmu = rig.start();
        assertTrue(mmu.cpu(before, 0).read(0x400000, 8, false));
        assertEquals(new TreeSet<>(List.of(Rig.PML4, Rig.PDPT, Rig.PD)), mmuTracked(before));
    }

    @Test
    void stoppingReturnsEveryTrackAndLpageCountAndStartingAgainRebuilds() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("restart");
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.read(0x400000, 8, false));
        Memslot slot = vm.slotForGfn(Rig.PT);
        assertTrue(slot.lpageDisallowCount(Rig.PT, Memslot.LEVEL_2M) > 0, "a leaf shadow page disallows large pages");

        rig.stop();
        assertEquals(new TreeSet<>(), mmuTracked(vm), "the MMU's tracks are returned");
        assertEquals(0, slot.lpageDisallowCount(Rig.PT, Memslot.LEVEL_2M), "and its lpage counts");
        String gone = assertThrows(VmException.class, () -> cpu.read(0x400000, 8, false)).getMessage();
        assertTrue(gone.startsWith("the MMU of VM restart is gone"), gone);
        vm.vcpu(0).emulatorWritePhys(Rig.PD << 12, 0, 8); // the VM runs on without an MMU

        Mmu again = rig.start();
        GuestCpu cpu2 = again.cpu(vm, 0);
        assertNotSame(cpu, cpu2);
        assertTrue(cpu2.read(0x400000, 8, false));
        assertEquals(new TreeSet<>(List.of(Rig.PML4, Rig.PDPT, Rig.PD)), mmuTracked(vm));
        assertEquals(List.of(), again.check(vm));
    }

    @Test
    void aSlotMoveIsNotRefusedForTheMmusTracksAndZapsEverything() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("move");
        Rig.buildTables(vm);
        assertTrue(mmu.cpu(vm, 0).read(0x400000, 8, false));
        assertFalse(mmuTracked(vm).isEmpty());
        vm.moveSlot(1, 0x100000);
        assertEquals(new TreeSet<>(), mmuTracked(vm), "kvm_arch_flush_shadow_memslot zapped every page");
        assertTrue(mmu.shadowPages(vm).stream().allMatch(p -> p.rootCount() > 0),
                "only roots a vCPU holds remain (invalid until it reloads)");
        assertEquals(List.of(), mmu.check(vm));
    }

    @Test
    void tunablesComeFromTheConfigurationAndBadOnesAreRefused() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("computed");
        long pages = 0xa0 + (0x4000 - 0x100);
        assertEquals(pages * 20 / 1000, stat(mmu, vm, "n_max_mmu_pages"), "kvm_mmu_calculate_mmu_pages after the slots");
        vm.createSlot(new org.shadowbox.vm.SlotSpec(2, 0x100000, 0x10000, 0));
        assertEquals((pages + 0x10000) * 20 / 1000, stat(mmu, vm, "n_max_mmu_pages"), "recomputed on a slot change");
        rig.stop();

        Mmu fixed = rig.start(Rig.config(16, 0, 100));
        assertEquals(100, stat(fixed, vm, "n_max_mmu_pages"), "configured: KVM_SET_NR_MMU_PAGES");
        rig.stop();

        assertEquals("configuration org.shadowbox.mmu: bad tlb.entries 48: accepted a power of two from 1 to 65536",
                assertThrows(VmException.class, () -> new MmuComponent(rig.core.forOwner("x"),
                        new MmuHooksComponent(), Rig.config(48, 3, 0))).getMessage());
        assertTrue(assertThrows(VmException.class, () -> new MmuComponent(rig.core.forOwner("x"),
                new MmuHooksComponent(), Rig.config(64, 17, 0))).getMessage().contains("bad root.cache 17: accepted 0 to 16"));
        assertTrue(assertThrows(VmException.class, () -> new MmuComponent(rig.core.forOwner("x"),
                new MmuHooksComponent(), Rig.config(64, 3, 2))).getMessage().contains("bad max.mmu.pages 2"));
    }

    /**
     * Issue 13: the shadow page limit of a sparse VM follows what its budget lets it make
     * resident, not the 1 TiB it declares (KVM's 20 per mille of that would be 5.4 million
     * shadow pages, 21 GiB of host memory).
     */
    @Test
    void theShadowPageLimitOfAHugeSparseVmFollowsItsBudget() {
        Mmu mmu = rig.start();
        Vm big = rig.hv.createVm(org.shadowbox.vm.VmSpec.pc("big", 1L << 40, 2));
        long declared = 0;
        for (org.shadowbox.vm.Memslot s : big.memslots()) {
            declared += s.npages();
        }
        long sandboxPages = big.memoryBudget().sandboxLimitBytes() >>> 12;
        assertTrue(sandboxPages < declared, "the test JVM's sandbox budget is below 1 TiB");
        assertEquals(Math.max(64, sandboxPages * 20 / 1000), stat(mmu, big, "n_max_mmu_pages"), "the sandbox's budget");
        big.setMemoryBudget(128L << 20);
        big.createSlot(new org.shadowbox.vm.SlotSpec(2, 1L << 30, 0x10, 0)); // a slot change recomputes it
        assertEquals(32768 * 20 / 1000, stat(mmu, big, "n_max_mmu_pages"), "the VM's own budget of 128 MiB");
        rig.stop();
    }

    @Test
    void walkShowsBothWalksAndFlushIsServedAtTheNextAccess() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("walk");
        Rig.buildTables(vm);
        Walk cold = mmu.walk(vm, 0, 0x400000);
        assertEquals(4, cold.guest().size());
        assertTrue(cold.shadow().isEmpty(), cold.result());
        assertTrue(cold.result().contains("shadow: no root"), cold.result());
        GuestCpu cpu = mmu.cpu(vm, 0);
        assertTrue(cpu.read(0x400000, 8, false));
        Walk w = mmu.walk(vm, 0, 0x400000);
        assertEquals(List.of(4, 3, 2, 1), w.guest().stream().map(Walk.Step::level).toList());
        assertEquals("0x" + Long.toHexString(Rig.PT << 12), w.guest().get(3).address());
        assertTrue(w.guest().get(3).decoded().endsWith("-> page 0x300000"), w.guest().get(3).decoded());
        assertEquals(4, w.shadow().size());
        assertTrue(w.result().startsWith("guest: gpa 0x300000 (4 KiB page, user, writable)"), w.result());
        assertTrue(w.result().endsWith("shadow: leaf at level 1, read-only"),
                "a read maps a clean gpte read-only (protect_clean_gpte): " + w.result());
        assertEquals(0, vm.memory().read((Rig.PT << 12) + 8 * 2, 8) & 0x20, "the walk set no accessed bit");

        long misses = stat(mmu, vm, "tlb_miss");
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(misses, stat(mmu, vm, "tlb_miss"), "a TLB hit");
        mmu.flush(vm, -1);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(misses + 1, stat(mmu, vm, "tlb_miss"), "flushed before the access");
        assertThrows(VmException.class, () -> mmu.flush(vm, 2));
    }

    @Test
    void aTlbHitAllocatesNothing() {
        Mmu mmu = rig.start();
        Vm vm = rig.vm("alloc");
        Rig.buildTables(vm);
        GuestCpu cpu = mmu.cpu(vm, 0);
        long sum = 0;
        for (int i = 0; i < 20_000; i++) { // warm up: fault in, then TLB hits
            cpu.read(0x400000 + (i & 0xff) * 8, 8, false);
            cpu.write(0x400800, i, 4, false);
            sum += cpu.value();
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            cpu.read(0x400000 + (i & 0xff) * 8, 8, false);
            cpu.write(0x400800, i, 4, false);
            sum += cpu.value();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 4096, "200000 accesses allocated " + allocated + " bytes (checksum " + sum + ")");
    }

    /**
     * A PAE or 32-bit guest's MOV to CR3 through the service is {@code kvm_set_cr3}: even with
     * the same value it reloads a PAE guest's PDPTEs and flushes the TLB (a PAE OS makes a PDPTE
     * change take effect that way; any OS flushes its TLB that way).
     */
    @Test
    void aCr3WriteOfAPaeOr32BitGuestReloadsPdptesAndFlushesTheTlb() {
        Mmu mmu = rig.start();
        Vm pae = rig.hv.createVm(VmSpec.pc("pae", 64L << 20, 1).with(VmSpec.PAGING, VmSpec.PAGING_PAE));
        long pdpt = 0x200, pd = 0x202, pt = 0x203, pd2 = 0x204, pt2 = 0x205, other = 0x301;
        Rig.pte(pae.memory(), pdpt, 0, (pd << 12) | Rig.P);
        Rig.pte(pae.memory(), pd, 2, (pt << 12) | Rig.P | Rig.RW | Rig.US);
        Rig.pte(pae.memory(), pt, 0, (Rig.DATA << 12) | Rig.P | Rig.RW | Rig.US);
        Rig.pte(pae.memory(), pd2, 2, (pt2 << 12) | Rig.P | Rig.RW | Rig.US);
        Rig.pte(pae.memory(), pt2, 0, (other << 12) | Rig.P | Rig.RW | Rig.US);
        pae.memory().write(Rig.DATA << 12, 0x1111, 8);
        pae.memory().write(other << 12, 0x2222, 8);
        GuestCpu cpu = mmu.cpu(pae, 0);
        cpu.writeRegister(Register.CR3, pdpt << 12);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(0x1111, cpu.value());
        Rig.pte(pae.memory(), pdpt, 0, (pd2 << 12) | Rig.P); // the OS changes PDPTE 0 ...
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(0x1111, cpu.value(), "... which takes effect at the next CR3 write, not before");
        cpu.writeRegister(Register.CR3, pdpt << 12);
        assertTrue(cpu.read(0x400000, 8, false));
        assertEquals(0x2222, cpu.value(), "the CR3 write loaded the new PDPTE");
        assertTrue(mmu.check(pae).isEmpty(), mmu.check(pae).toString());

        Vm p32 = rig.hv.createVm(VmSpec.pc("p32", 64L << 20, 1).with(VmSpec.PAGING, VmSpec.PAGING_32));
        p32.memory().write((pd << 12) + 4, (pt << 12) | Rig.P | Rig.RW | Rig.US, 4); // PDE 1
        p32.memory().write(pt << 12, (Rig.DATA << 12) | Rig.P | Rig.RW | Rig.US, 4);
        p32.memory().write((pt << 12) + 4, (pt << 12) | Rig.P | Rig.RW | 0x60, 4); // PT entry 1: a window on the PT
        p32.memory().write(Rig.DATA << 12, 0x1111, 8);
        p32.memory().write(other << 12, 0x2222, 8);
        GuestCpu c32 = mmu.cpu(p32, 0);
        c32.writeRegister(Register.CR3, pd << 12);
        assertTrue(c32.read(0x400000, 8, false));
        assertEquals(0x1111, c32.value());
        assertTrue(c32.write(0x401000, (other << 12) | Rig.P | Rig.RW | Rig.US, 4, false)); // the OS edits its PT
        c32.writeRegister(Register.CR3, pd << 12);
        assertTrue(c32.read(0x400000, 8, false));
        assertEquals(0x2222, c32.value(), "the CR3 write flushed the TLB (and resynced the PT)");
        assertTrue(mmu.check(p32).isEmpty(), mmu.check(p32).toString());
    }
}
