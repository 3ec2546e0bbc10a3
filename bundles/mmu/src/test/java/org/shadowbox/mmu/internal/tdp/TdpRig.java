package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.vm.spi.Platform;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.pagetrack.internal.TrackerRole;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The real hypervisor and page track with a TDP MMU, wired as the bundles are: page track is
 * the VM and write listener, the TDP hooks are page track's write-protect hook and a VM
 * listener. A recording notifier stands for an external tracker (KVMGT). The vCPUs start in
 * the paging mode the spec names.
 */
public final class TdpRig {
    public static final String MMU_BUNDLE = "org.shadowbox.mmu";

    public final HypervisorImpl hv = new HypervisorImpl();
    public final PageTrackCore core = new PageTrackCore();
    public final TdpHooks hooks = new TdpHooks();
    public final Vm vm;
    public final GuestMemory mem;
    public final TdpMmu mmu;
    public final AccessResult r = new AccessResult();
    public final List<String> writes = Collections.synchronizedList(new ArrayList<>());

    /** A PC-layout VM of {@code memoryBytes} with {@code mmu=tdp} and {@code paging} ("64", "pae", "32", "off"). */
    public TdpRig(String name, long memoryBytes, int vcpus, String paging, int tlbEntries) {
        this(name, memoryBytes, vcpus, paging, tlbEntries, VmSpec.POLICY_PAGETRACK);
    }

    /** The same with {@code policy} ("pagetrack", or "legacy": KVM's TDP fault path before the series). */
    public TdpRig(String name, long memoryBytes, int vcpus, String paging, int tlbEntries, String policy) {
        hv.addVmListener(core);
        hv.addWriteListener(core);
        hv.addVmListener(hooks);
        core.setWriteProtectHook(hooks, MMU_BUNDLE);
        vm = hv.createVm(VmSpec.pc(name, memoryBytes, vcpus).with(VmSpec.MMU, VmSpec.MMU_TDP)
                .with(VmSpec.PAGING, paging).with(VmSpec.POLICY, policy));
        mem = vm.memory();
        mmu = hooks.attach(vm, core.forOwner(MMU_BUNDLE, TrackerRole.MMU), tlbEntries);
        core.register(new PageTrackNotifier() {
            @Override
            public void trackWrite(Vm v, int vcpuId, long gpa, long value, int bytes) {
                writes.add("vcpu" + vcpuId + " 0x" + Long.toHexString(gpa) + "=0x" + Long.toHexString(value) + "/" + bytes);
            }
        }, "test.recorder", vm.name());
    }

    public TdpRig(String paging) {
        this("t", 64L << 20, 2, paging, 64);
    }

    /** An external tracker's page track (KVMGT's role). */
    public PageTrack external(String owner) {
        return core.forOwner(owner);
    }

    public TdpVcpu cpu(int i) {
        return mmu.vcpu(i);
    }

    /** The TDP leaf mapping {@code gfn} (0 if none) and, through {@link #leafLevel}, its level. */
    public long leaf(long gfn) {
        Platform.mmuLock(vm).lock();
        try {
            return mmu.leaf(gfn);
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }

    /** The level of the TDP leaf mapping {@code gfn}, or 0. */
    public int leafLevel(long gfn) {
        Platform.mmuLock(vm).lock();
        try {
            return mmu.leaf(gfn) == 0 ? 0 : mmu.leafLevel();
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }

    public List<String> check() {
        return TdpChecker.check(mmu);
    }

    public void assertConsistent(String context) {
        assertEquals(List.of(), check(), context);
    }
}
