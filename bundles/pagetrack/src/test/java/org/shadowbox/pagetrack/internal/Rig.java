package org.shadowbox.pagetrack.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/** The real hypervisor with page track plugged in as it is under OSGi. */
final class Rig {
    final HypervisorImpl hv = new HypervisorImpl();
    final PageTrackCore core = new PageTrackCore();

    Rig() {
        hv.addVmListener(core);
        hv.addWriteListener(core);
    }

    /** A PC layout: slot 0 gfn [0, 0xa0), slot 1 gfn [0x100, memory / 4 KiB). */
    Vm pc(String name, long memoryBytes) {
        return hv.createVm(VmSpec.pc(name, memoryBytes, 2));
    }

    Vm pc(String name) {
        return pc(name, 64L << 20);
    }

    /** A notifier that appends "tag:event" lines to a shared log. */
    static final class Recorder implements PageTrackNotifier {
        final String tag;
        final List<String> log;

        Recorder(String tag, List<String> log) {
            this.tag = tag;
            this.log = log;
        }

        Recorder(String tag) {
            this(tag, Collections.synchronizedList(new ArrayList<>()));
        }

        @Override
        public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
            log.add(tag + ":write " + vm.name() + " vcpu" + vcpuId + " 0x" + Long.toHexString(gpa) + "=0x"
                    + Long.toHexString(value) + "/" + bytes);
        }

        @Override
        public void trackRemoveRegion(Vm vm, long gfn, long npages) {
            log.add(tag + ":remove " + vm.name() + " 0x" + Long.toHexString(gfn) + "+" + npages);
        }
    }
}
