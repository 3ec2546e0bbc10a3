package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.shadowbox.mmu.internal.paging.PagingMode;
import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.pagetrack.internal.TrackerRole;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The real hypervisor, page track and the shadow MMU wired as the bundles will be: page
 * track is the VM and write listener, the MMU's hooks are page track's write-protect hook,
 * the MMU's fallback notifier and a VM listener, and the emulator's direct pte-write call
 * (the legacy policy's). Every vCPU starts in the rig's paging mode (64-bit unless told
 * otherwise; CR3 is the test's to set); the VM's policy is pagetrack unless told otherwise.
 */
final class ShadowRig {
    static final String MMU_BUNDLE = "org.shadowbox.mmu";
    static final long CR0 = Register.CR0_PE | Register.CR0_PG | Register.CR0_WP;
    static final long CR4 = Register.CR4_PAE;
    static final long EFER = Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE;
    static final long RWU = Pte.P | Pte.RW | Pte.US;
    /** CR4 and EFER of a PAE guest (NX available) and of a 32-bit guest (4 MiB pages). */
    static final long CR4_PAE = Register.CR4_PAE, EFER_PAE = Register.EFER_NXE;
    static final long CR4_32 = Register.CR4_PSE, EFER_32 = 0;

    static long cr4(PagingMode mode) {
        return mode == PagingMode.LONG ? CR4 : mode == PagingMode.PAE ? CR4_PAE : CR4_32;
    }

    static long efer(PagingMode mode) {
        return mode == PagingMode.LONG ? EFER : mode == PagingMode.PAE ? EFER_PAE : EFER_32;
    }

    final HypervisorImpl hv = new HypervisorImpl();
    final PageTrackCore core = new PageTrackCore();
    final MmuHooks hooks = new MmuHooks();
    final Vm vm;
    final GuestMemory mem;
    final ShadowMmu mmu;
    final AccessResult r = new AccessResult();
    final List<String> writes = Collections.synchronizedList(new ArrayList<>());

    ShadowRig(String name, long memoryBytes, int vcpus, int tlbEntries) {
        this(name, memoryBytes, vcpus, tlbEntries, PagingMode.LONG, VmSpec.POLICY_PAGETRACK);
    }

    /** @param policy {@link VmSpec#POLICY_PAGETRACK} or {@link VmSpec#POLICY_LEGACY} */
    ShadowRig(String name, long memoryBytes, int vcpus, int tlbEntries, String policy) {
        this(name, memoryBytes, vcpus, tlbEntries, PagingMode.LONG, policy);
    }

    ShadowRig(String name, long memoryBytes, int vcpus, int tlbEntries, PagingMode mode) {
        this(name, memoryBytes, vcpus, tlbEntries, mode, VmSpec.POLICY_PAGETRACK);
    }

    /**
     * @param mode   the paging mode every vCPU starts in
     * @param policy {@link VmSpec#POLICY_PAGETRACK} or {@link VmSpec#POLICY_LEGACY}
     */
    ShadowRig(String name, long memoryBytes, int vcpus, int tlbEntries, PagingMode mode, String policy) {
        hv.addVmListener(core);
        hv.addWriteListener(core);
        hv.addWriteListener(new EmulatorPteWrite(hooks)); // the legacy policy's direct pte-write call
        hv.addVmListener(hooks);
        core.setWriteProtectHook(hooks, MMU_BUNDLE);
        vm = hv.createVm(VmSpec.pc(name, memoryBytes, vcpus).with(VmSpec.POLICY, policy)
                .with(VmSpec.PAGING, mode == PagingMode.LONG ? VmSpec.PAGING_64
                        : mode == PagingMode.PAE ? VmSpec.PAGING_PAE : VmSpec.PAGING_32));
        mem = vm.memory();
        mmu = hooks.attach(vm, core.forOwner(MMU_BUNDLE, TrackerRole.MMU), tlbEntries, 3);
        core.register(hooks, MMU_BUNDLE, vm.name());
        core.register(new PageTrackNotifier() {
            @Override
            public void trackWrite(Vm v, int vcpuId, long gpa, long value, int bytes) {
                writes.add("vcpu" + vcpuId + " 0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(value) + "/" + bytes);
            }
        }, "test.recorder", vm.name());
        for (int i = 0; i < vcpus; i++) {
            mmu.vcpu(i).memoryCache.fillOnlyToMinimum(); // a section with no top-up before it runs the cache dry at once
            vm.vcpu(i).set(Register.CR0, CR0);
            vm.vcpu(i).set(Register.CR4, cr4(mode));
            vm.vcpu(i).set(Register.EFER, efer(mode));
        }
    }

    ShadowRig() {
        this("t", 64L << 20, 2, 64);
    }

    ShadowRig(PagingMode mode) {
        this("t", 64L << 20, 2, 64, mode);
    }

    /** An external tracker's page track (KVMGT's role). */
    PageTrack external(String owner) {
        return core.forOwner(owner);
    }

    VcpuMmu cpu(int i) {
        return mmu.vcpu(i);
    }

    /** Host-side: writes entry {@code index} of the table at {@code tableGfn}. */
    void pte(long tableGfn, int index, long value) {
        mem.write((tableGfn << 12) + 8L * index, value, 8);
    }

    long readPte(long tableGfn, int index) {
        return mem.read((tableGfn << 12) + 8L * index, 8);
    }

    /** Host-side: writes 4-byte entry {@code index} (0-1023) of the 32-bit table at {@code tableGfn}. */
    void pte32(long tableGfn, int index, long value) {
        mem.write((tableGfn << 12) + 4L * index, value, 4);
    }

    long readPte32(long tableGfn, int index) {
        return mem.read((tableGfn << 12) + 4L * index, 4);
    }

    /**
     * Host-side: maps 4 KiB {@code gva} to {@code gfn} under PML4 {@code pml4}, with tables
     * taken from {@code tables} as needed ({@code tables[0..2]}: PDPT, PD, PT gfns).
     */
    void map4k(long pml4, long[] tables, long gva, long gfn, long leafFlags) {
        pte(pml4, PageFault.index(gva, 4), (tables[0] << 12) | RWU);
        pte(tables[0], PageFault.index(gva, 3), (tables[1] << 12) | RWU);
        pte(tables[1], PageFault.index(gva, 2), (tables[2] << 12) | RWU);
        pte(tables[2], PageFault.index(gva, 1), (gfn << 12) | leafFlags);
    }

    /** The level of the shadow leaf mapping {@code gva} in vCPU {@code v}'s root, or 0 if none. */
    int shadowLeafLevel(VcpuMmu v, long gva) {
        ShadowPage sp = v.shadowWalkRoot(gva);
        for (int level = v.shadowWalkLevel(); sp != null; level--) {
            long spte = sp.spte(PageFault.index(gva, level));
            if (!Spte.isPresent(spte)) {
                return 0;
            }
            if (Spte.isLast(spte, level)) {
                return level;
            }
            sp = mmu.page(Spte.childId(spte));
        }
        return 0;
    }

    /** The shadow leaf spte mapping {@code gva} (0 if none). */
    long shadowLeaf(VcpuMmu v, long gva) {
        ShadowPage sp = v.shadowWalkRoot(gva);
        for (int level = v.shadowWalkLevel(); sp != null; level--) {
            long spte = sp.spte(PageFault.index(gva, level));
            if (!Spte.isPresent(spte) || Spte.isLast(spte, level)) {
                return spte;
            }
            sp = mmu.page(Spte.childId(spte));
        }
        return 0;
    }

    /** The shadow pages along {@code gva}'s walk, root first. */
    List<ShadowPage> shadowPath(VcpuMmu v, long gva) {
        List<ShadowPage> out = new ArrayList<>();
        ShadowPage sp = v.shadowWalkRoot(gva);
        for (int level = v.shadowWalkLevel(); sp != null; level--) {
            out.add(sp);
            long spte = sp.spte(PageFault.index(gva, level));
            if (!Spte.isPresent(spte) || Spte.isLast(spte, level)) {
                break;
            }
            sp = mmu.page(Spte.childId(spte));
        }
        return out;
    }

    /** A fresh result object (for tests that use several rigs). */
    AccessResult rr() {
        return new AccessResult();
    }

    /** {@code kvm_mmu_zap_all}, then the checker. */
    void zapAllAndCheck() {
        mmu.zapAll();
        assertConsistent("after zap all");
    }

    void assertConsistent(String context) {
        assertEquals(List.of(), MmuChecker.check(mmu), context);
    }
}
