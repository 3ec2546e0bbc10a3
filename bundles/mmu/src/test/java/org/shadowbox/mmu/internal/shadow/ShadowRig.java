package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

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
 * the MMU's fallback notifier and a VM listener. Every vCPU starts in 64-bit paging.
 */
final class ShadowRig {
    static final String MMU_BUNDLE = "org.shadowbox.mmu";
    static final long CR0 = Register.CR0_PE | Register.CR0_PG | Register.CR0_WP;
    static final long CR4 = Register.CR4_PAE;
    static final long EFER = Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE;
    static final long RWU = Pte.P | Pte.RW | Pte.US;

    final HypervisorImpl hv = new HypervisorImpl();
    final PageTrackCore core = new PageTrackCore();
    final MmuHooks hooks = new MmuHooks();
    final Vm vm;
    final GuestMemory mem;
    final ShadowMmu mmu;
    final AccessResult r = new AccessResult();
    final List<String> writes = Collections.synchronizedList(new ArrayList<>());

    ShadowRig(String name, long memoryBytes, int vcpus, int tlbEntries) {
        this(name, memoryBytes, vcpus, tlbEntries, VmSpec.POLICY_PAGETRACK);
    }

    /** @param policy {@link VmSpec#POLICY_PAGETRACK} or {@link VmSpec#POLICY_LEGACY} */
    ShadowRig(String name, long memoryBytes, int vcpus, int tlbEntries, String policy) {
        hv.addVmListener(core);
        hv.addWriteListener(core);
        hv.addWriteListener(new EmulatorPteWrite(hooks)); // the legacy policy's direct pte-write call
        hv.addVmListener(hooks);
        core.setWriteProtectHook(hooks, MMU_BUNDLE);
        vm = hv.createVm(VmSpec.pc(name, memoryBytes, vcpus).with(VmSpec.POLICY, policy));
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
            vm.vcpu(i).set(Register.CR0, CR0);
            vm.vcpu(i).set(Register.CR4, CR4);
            vm.vcpu(i).set(Register.EFER, EFER);
        }
    }

    ShadowRig() {
        this("t", 64L << 20, 2, 64);
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
        ShadowPage sp = v.root;
        for (int level = 4; sp != null; level--) {
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
        ShadowPage sp = v.root;
        for (int level = 4; sp != null; level--) {
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
        ShadowPage sp = v.root;
        for (int level = 4; sp != null; level--) {
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
