package org.shadowbox.gpu.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The vGPUs, one per VM attached, and the tracker's page-track notifier for all of them.
 * Page track calls every notifier for every emulated write in every VM (as KVM does), so the
 * notifier finds the VM's vGPU by identity in a copy-on-write array and checks the gfn against
 * the vGPU's sorted protected gfns before it takes any lock: a write that is not ours costs a
 * few loads and allocates nothing.
 */
final class Gpus implements PageTrackNotifier {
    private static final VGpu[] NONE = new VGpu[0];

    private final PageTrack pageTrack;
    /** Copy-on-write; replaced under {@code this}. */
    private volatile VGpu[] gpus = NONE;

    Gpus(PageTrack pageTrack) {
        this.pageTrack = pageTrack;
    }

    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        VGpu g = find(vm);
        if (g != null && g.isProtected(gpa >>> 12)) { // a write never crosses a page
            g.trackWrite(gpa, bytes);
        }
    }

    @Override
    public void trackRemoveRegion(Vm vm, long gfn, long npages) {
        VGpu g = find(vm);
        if (g != null) {
            g.trackRemoveRegion(gfn, npages);
        }
    }

    VGpu find(Vm vm) {
        for (VGpu g : gpus) {
            if (g.vm == vm) {
                return g;
            }
        }
        return null;
    }

    /** The VM's vGPU, attached now if it has none. */
    synchronized VGpu attach(Vm vm) {
        forgetDestroyed();
        VGpu g = find(vm);
        if (g != null) {
            return g;
        }
        if (vm.destroyed()) {
            throw new VmException("VM " + vm.name() + " is destroyed: no vGPU can be attached to it");
        }
        g = new VGpu(vm, pageTrack);
        VGpu[] cur = gpus;
        VGpu[] next = Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = g;
        gpus = next;
        return g;
    }

    /** The VM's vGPU, or a one-line error naming the attached VMs. */
    VGpu require(Vm vm) {
        VGpu g = find(vm);
        if (g == null) {
            throw new VmException("VM " + vm.name() + " has no vGPU: gpu:attach " + vm.name()
                    + " first (attached: " + (gpus.length == 0 ? "none" : names()) + ")");
        }
        return g;
    }

    /** Detaches the VM's vGPU: every shadow dropped, every track given back. */
    synchronized void detach(Vm vm) {
        VGpu g = require(vm);
        g.detach();
        gpus = Arrays.stream(gpus).filter(x -> x != g).toArray(VGpu[]::new);
    }

    /** Detaches all (the bundle stops). */
    synchronized void detachAll() {
        for (VGpu g : gpus) {
            g.detach();
        }
        gpus = NONE;
    }

    List<VGpu> all() {
        forgetDestroyed();
        return List.of(gpus);
    }

    private synchronized void forgetDestroyed() {
        VGpu[] cur = gpus;
        VGpu[] kept = Arrays.stream(cur).filter(g -> !g.vm.destroyed()).toArray(VGpu[]::new);
        if (kept.length != cur.length) {
            gpus = kept;
        }
    }

    private String names() {
        List<String> n = new ArrayList<>();
        for (VGpu g : gpus) {
            n.add(g.vm.name());
        }
        return String.join(", ", n);
    }
}
