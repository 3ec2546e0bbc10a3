package org.shadowbox.gpu.internal;

import org.shadowbox.pagetrack.internal.OwnerTrack;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The real hypervisor and page track, and the GPU tracker wired to them as under OSGi: its page
 * track is owner {@value #BSN}'s and its notifier is registered for every VM. The VM is a 64 MiB
 * PC (gfn 0x0-0x9f, 0x100-0x3fff) plus slot 2 at {@link #SLOT2_BASE} for region removal.
 */
final class GpuRig {
    static final String BSN = "org.shadowbox.gpu";
    static final long SLOT2_BASE = 0x10000;
    static final long SLOT2_PAGES = 0x100;

    final HypervisorImpl hv = new HypervisorImpl();
    final PageTrackCore core = new PageTrackCore();
    final OwnerTrack track = core.forOwner(BSN);
    final Gpus gpus = new Gpus(track);
    final Vm vm;
    final VGpu gpu;

    GpuRig() {
        hv.addVmListener(core);
        hv.addWriteListener(core);
        core.register(gpus, BSN);
        vm = hv.createVm(VmSpec.pc("gpu", 64L << 20, 2));
        vm.createSlot(new SlotSpec(2, SLOT2_BASE, SLOT2_PAGES, 0));
        gpu = gpus.attach(vm);
    }

    /** A guest's emulated write (notifies page track, hence the tracker). */
    void write(long gpa, long value, int bytes) {
        vm.vcpu(0).emulatorWritePhys(gpa, value, bytes);
    }

    /** An 8-byte guest write of entry {@code index} of table {@code gfn}. */
    void pte(long gfn, int index, long value) {
        write((gfn << 12) + 8L * index, value, 8);
    }

    long read(long gpa) {
        return vm.memory().read(gpa, 8);
    }

    void close() {
        core.unregister(gpus);
        core.close();
    }
}
