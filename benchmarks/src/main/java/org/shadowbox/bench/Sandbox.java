package org.shadowbox.bench;

import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/** The vm and page-track implementations wired as under OSGi, without a framework. */
final class Sandbox {
    final HypervisorImpl hypervisor = new HypervisorImpl();
    final PageTrackCore pageTrack = new PageTrackCore();
    final Vm vm;

    Sandbox() {
        hypervisor.addVmListener(pageTrack);
        hypervisor.addWriteListener(pageTrack);
        vm = hypervisor.createVm(VmSpec.pc("bench", 1L << 30, 2));
    }
}
