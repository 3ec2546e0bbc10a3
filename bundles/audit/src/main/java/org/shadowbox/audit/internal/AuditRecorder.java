package org.shadowbox.audit.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;

/**
 * The audit's notifier: it keeps, per VM, the gfns the user watches and a bounded log of the
 * emulated writes to them. Like KVMGT, it keeps its own set of gfns and ignores every other
 * write, since page track calls every notifier for every emulated write.
 *
 * <p>This class only records; tracking the pages through page track is the commands' job.
 *
 * <p>Thread-safe. {@link #trackWrite} runs on vCPU threads concurrently: it finds the VM by
 * identity in a copy-on-write array, the gfn by binary search in a copy-on-write sorted
 * {@code long[]}, takes no lock for a write it ignores and allocates nothing for one it keeps.
 */
final class AuditRecorder implements PageTrackNotifier {

    private static final long[] NONE = new long[0];
    /** The most entries a VM's log may keep: 30 bytes each, so at most about 30 MB of heap per audited VM. */
    static final int MAX_CAPACITY = 1_000_000;

    private final int capacity;
    private final LongSupplier clock;
    /** Copy-on-write; replaced under {@code this}. */
    private volatile VmAudit[] vms = new VmAudit[0];

    /**
     * @param capacity entries each VM's log keeps before it drops the oldest
     * @param clock    wall-clock milliseconds for the entries' timestamps
     */
    AuditRecorder(int capacity, LongSupplier clock) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("configuration org.shadowbox.audit: bad capacity " + capacity
                    + ": accepted 1 to " + MAX_CAPACITY + " entries per VM (each VM's log is allocated whole)");
        }
        this.capacity = capacity;
        this.clock = clock;
    }

    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        VmAudit a = find(vm);
        if (a != null && a.watches(gpa >>> 12)) { // a write never crosses a page
            a.log.appendWrite(clock.getAsLong(), vcpuId, gpa, value, bytes);
        }
    }

    @Override
    public void trackRemoveRegion(Vm vm, long gfn, long npages) {
        VmAudit a = find(vm);
        if (a != null) {
            int forgotten = a.forgetRange(gfn, gfn + npages);
            if (forgotten > 0) {
                a.log.appendRegionRemoved(clock.getAsLong(), gfn, npages, forgotten);
            }
        }
    }

    /** Starts recording writes to {@code gfn}; false if it was already watched. */
    boolean watch(Vm vm, long gfn) {
        return findOrCreate(vm).add(gfn);
    }

    /** Stops recording writes to {@code gfn}; false if it was not watched. */
    boolean unwatch(Vm vm, long gfn) {
        VmAudit a = find(vm);
        return a != null && a.remove(gfn);
    }

    boolean isWatched(Vm vm, long gfn) {
        VmAudit a = find(vm);
        return a != null && a.watches(gfn);
    }

    /** The watched gfns of the VM, ascending. */
    long[] watched(Vm vm) {
        VmAudit a = find(vm);
        return a == null ? NONE : a.watched.clone();
    }

    /** The VM's log; an empty one if nothing of the VM was ever watched. */
    WriteLog.Snapshot log(Vm vm) {
        VmAudit a = find(vm);
        return a == null ? new WriteLog.Snapshot(0, 0, capacity, List.of()) : a.log.snapshot();
    }

    /** VMs that have state here (watched gfns or a log), in the order they got it. */
    List<Vm> vms() {
        List<Vm> out = new ArrayList<>();
        for (VmAudit a : vms) {
            out.add(a.vm);
        }
        return out;
    }

    /** Drops the state of VMs that were destroyed: their gfns and logs are gone with them. */
    synchronized void forgetDestroyed() {
        VmAudit[] cur = vms;
        VmAudit[] kept = Arrays.stream(cur).filter(a -> !a.vm.destroyed()).toArray(VmAudit[]::new);
        if (kept.length != cur.length) {
            vms = kept;
        }
    }

    private VmAudit find(Vm vm) {
        for (VmAudit a : vms) {
            if (a.vm == vm) {
                return a;
            }
        }
        return null;
    }

    private synchronized VmAudit findOrCreate(Vm vm) {
        VmAudit a = find(vm);
        if (a == null) {
            a = new VmAudit(vm, new WriteLog(capacity));
            VmAudit[] cur = vms;
            VmAudit[] next = Arrays.copyOf(cur, cur.length + 1);
            next[cur.length] = a;
            vms = next;
        }
        return a;
    }

    /** One VM's watched gfns and log. */
    private static final class VmAudit {
        final Vm vm;
        final WriteLog log;
        /** Sorted; copy-on-write, replaced under {@code this}. */
        volatile long[] watched = NONE;

        VmAudit(Vm vm, WriteLog log) {
            this.vm = vm;
            this.log = log;
        }

        boolean watches(long gfn) {
            long[] w = watched;
            return w.length != 0 && Arrays.binarySearch(w, gfn) >= 0;
        }

        synchronized boolean add(long gfn) {
            long[] w = watched;
            int i = Arrays.binarySearch(w, gfn);
            if (i >= 0) {
                return false;
            }
            int at = -i - 1;
            long[] next = new long[w.length + 1];
            System.arraycopy(w, 0, next, 0, at);
            next[at] = gfn;
            System.arraycopy(w, at, next, at + 1, w.length - at);
            watched = next;
            return true;
        }

        synchronized boolean remove(long gfn) {
            long[] w = watched;
            int i = Arrays.binarySearch(w, gfn);
            if (i < 0) {
                return false;
            }
            long[] next = new long[w.length - 1];
            System.arraycopy(w, 0, next, 0, i);
            System.arraycopy(w, i + 1, next, i, w.length - i - 1);
            watched = next;
            return true;
        }

        /** Forgets the gfns in {@code [from, to)}; returns how many there were. */
        synchronized int forgetRange(long from, long to) {
            long[] w = watched;
            long[] next = Arrays.stream(w).filter(g -> g < from || g >= to).toArray();
            watched = next.length == 0 ? NONE : next;
            return w.length - next.length;
        }
    }
}
