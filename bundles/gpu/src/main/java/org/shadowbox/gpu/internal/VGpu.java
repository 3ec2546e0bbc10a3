package org.shadowbox.gpu.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * A mediated vGPU attached to one VM (KVMGT's {@code intel_vgpu}): what the guest's GPU driver
 * reaches through its MMIO registers (give pages to the GPU, point a context at its page
 * tables, submit a batch) and what the tracker does with the guest's page-table writes.
 * Thread-safe: one lock per vGPU; vCPUs writing GPU tables concurrently take it in turn. Page
 * track is called under it (page track never calls a notifier with a lock held, so the order is
 * always vGPU lock, then MMU lock).
 */
final class VGpu {
    final Vm vm;
    private final GpuStats stats = new GpuStats();
    private final Grants grants = new Grants();
    private final ShadowPpgtt ppgtt;
    private final GpuEngine engine;
    private boolean detached;

    VGpu(Vm vm, PageTrack pageTrack) {
        this.vm = vm;
        this.ppgtt = new ShadowPpgtt(vm, pageTrack, grants, stats);
        this.engine = new GpuEngine(ppgtt, stats);
    }

    /** Lock-free first check of the notifier: is {@code gfn} one of our shadowed table pages? */
    boolean isProtected(long gfn) {
        return ppgtt.isProtected(gfn);
    }

    /** {@code track_write} for one of our gfns (checked again under the lock). */
    synchronized void trackWrite(long gpa, int bytes) {
        if (!detached) {
            ppgtt.trackWrite(gpa, bytes);
        }
    }

    /** {@code track_remove_region}. */
    synchronized void trackRemoveRegion(long gfn, long npages) {
        if (!detached && ppgtt.removeRegion(gfn, npages)) {
            stats.regionsRemoved++;
        }
    }

    // ---- the driver's MMIO ----

    /** Gives guest page {@code gfn} to the GPU as a data page (buffer or batch). */
    synchronized void grantData(long gfn) {
        requireAttached();
        grants.grant(gfn, Grants.DATA);
    }

    /** Gives guest page {@code gfn} to the GPU as a page table of {@code level} (1 to 4). */
    synchronized void grantTable(long gfn, int level) {
        requireAttached();
        if (level < 1 || level > GpuPte.TOP_LEVEL) {
            throw new VmException("bad GPU table level " + level + ": accepted 1 to 4");
        }
        grants.grant(gfn, level);
    }

    /** Takes a page back from the GPU; shadow entries that used it go to scratch. */
    synchronized void revoke(long gfn) {
        requireAttached();
        ppgtt.revoke(gfn);
    }

    /** Points context {@code ctx} at its level-4 table (0: none). */
    synchronized void setRoot(int ctx, long gfn) {
        requireAttached();
        ppgtt.setRoot(ctx, gfn);
    }

    /** Runs the batch at GPU virtual address {@code batchGva} of context {@code ctx}; returns the commands run. */
    synchronized int submit(int ctx, long batchGva) {
        requireAttached();
        if (ctx < 0 || ctx >= ShadowPpgtt.CONTEXTS) {
            throw new VmException("bad GPU context " + ctx + ": accepted 0 to " + (ShadowPpgtt.CONTEXTS - 1));
        }
        return engine.execute(ctx, batchGva);
    }

    /** Drops every shadow and gives back every track; the vGPU refuses the driver from now on. */
    synchronized void detach() {
        if (!detached) {
            ppgtt.clear();
            detached = true;
        }
    }

    private void requireAttached() {
        if (detached) {
            throw new VmException("the vGPU of VM " + vm.name() + " was detached: gpu:attach " + vm.name() + " first");
        }
    }

    // ---- tools ----

    synchronized GpuStats.Snapshot stats() {
        return stats.snapshot(ppgtt.trackedPages());
    }

    /** What the GPU sees at {@code gva} on context {@code ctx}: FAULT, SCRATCH or PAGE with its gfn (tests, scenario). */
    synchronized long[] translate(int ctx, long gva) {
        int r = engine.translate(ctx, gva);
        return new long[] {r, r == GpuEngine.PAGE ? lastGfn(ctx, gva) : -1};
    }

    private long lastGfn(int ctx, long gva) {
        ShadowTable t = ppgtt.root[ctx];
        while (t.level > 1) {
            t = t.child[GpuPte.index(gva, t.level)];
        }
        return GpuPte.gfn(t.guest[GpuPte.index(gva, 1)]);
    }

    /**
     * One shadowed table as {@code gpu:tables} shows it.
     *
     * @param gfn      the guest page
     * @param level    4 (top) to 1
     * @param refs     shadow entries and contexts pointing at it
     * @param tables   entries shadowing a next table
     * @param pages    entries mapping a host page
     * @param scratch  entries mapped to the scratch page (violations)
     * @param writes   guest writes to it
     * @param failures failures since its last rebuild
     */
    record TableInfo(long gfn, int level, int refs, int tables, int pages, int scratch, long writes, int failures) {
    }

    synchronized List<TableInfo> tables() {
        List<TableInfo> out = new ArrayList<>();
        for (ShadowTable t : ppgtt.tables()) {
            out.add(new TableInfo(t.gfn, t.level, t.refs, t.count(ShadowTable.TABLE), t.count(ShadowTable.PAGE),
                    t.count(ShadowTable.SCRATCH), t.writes, t.failures));
        }
        return out;
    }

    /** The contexts' roots: gfn and "shadowed", "scratch" or "none". */
    synchronized List<String> roots() {
        List<String> out = new ArrayList<>();
        for (int c = 0; c < ShadowPpgtt.CONTEXTS; c++) {
            byte k = ppgtt.rootKind[c];
            out.add(k == ShadowTable.TABLE ? "0x" + Long.toHexString(ppgtt.rootGfn[c])
                    : k == ShadowTable.SCRATCH ? "scratch (0x" + Long.toHexString(ppgtt.rootGfn[c]) + ")" : "-");
        }
        return out;
    }

    synchronized Map<Long, Integer> grants() {
        return grants.sorted();
    }

    /** Package access for tests: the shadow itself. */
    ShadowPpgtt ppgtt() {
        return ppgtt;
    }
}
