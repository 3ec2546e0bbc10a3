package org.shadowbox.gpu.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The shadow GPU page tables of one vGPU, as KVMGT keeps them (gvt/gtt.c): its own table of
 * protected gfns, each guest table page write-protected through page track while it is
 * shadowed; a guest entry is validated before the GPU may use it; a guest write to a table is
 * handled by re-reading the entry from guest memory (never trusting the notified bytes); a
 * write that is not 4 or 8 bytes is rejected; after more than {@value #MAX_FAILURES} failures
 * a table's shadow is invalidated and rebuilt from guest memory.
 *
 * <p>Shadow tables are reference counted by the shadow entries (and context roots) pointing
 * at them: a table is shadowed (and tracked) while reachable and unshadowed (and untracked)
 * when the last reference goes. Levels strictly decrease along entries, so the graph has no
 * cycle. A new entry's target is referenced before the old one is released, so a table that
 * stays reachable is never torn down in between.
 *
 * <p>Not thread-safe: the {@link VGpu} calls it under its lock. The sorted array of protected
 * gfns is published copy-on-write for the notifier's lock-free first check, and a gfn is
 * published before its table is read, so a write racing the shadowing of a table is either
 * seen by our read or handled by the notifier.
 */
final class ShadowPpgtt {
    /** Failures a table takes before its shadow is rebuilt on the next one (KVMGT: "more than 3"). */
    static final int MAX_FAILURES = 3;
    static final int CONTEXTS = 4;
    private static final long[] NONE = new long[0];

    final Vm vm;
    private final PageTrack pageTrack;
    final Grants grants;
    final GpuStats stats;
    private final Map<Long, ShadowTable> tables = new HashMap<>();
    /** Sorted gfns of the shadowed tables; copy-on-write. */
    private volatile long[] protectedGfns = NONE;
    /** Context roots: the guest gfn the driver set, and its shadow (null: none or scratch). */
    final long[] rootGfn = new long[CONTEXTS];
    final byte[] rootKind = new byte[CONTEXTS];
    final ShadowTable[] root = new ShadowTable[CONTEXTS];

    ShadowPpgtt(Vm vm, PageTrack pageTrack, Grants grants, GpuStats stats) {
        this.vm = vm;
        this.pageTrack = pageTrack;
        this.grants = grants;
        this.stats = stats;
    }

    /** Lock-free: whether {@code gfn} is one of the shadowed table pages. */
    boolean isProtected(long gfn) {
        long[] a = protectedGfns;
        return a.length != 0 && Arrays.binarySearch(a, gfn) >= 0;
    }

    ShadowTable table(long gfn) {
        return tables.get(gfn);
    }

    List<ShadowTable> tables() {
        List<ShadowTable> out = new ArrayList<>(tables.values());
        out.sort((a, b) -> Long.compare(a.gfn, b.gfn));
        return out;
    }

    int trackedPages() {
        return tables.size();
    }

    // ---- roots ----

    /** Points context {@code ctx} at the level-4 table {@code gfn} (0: none). */
    void setRoot(int ctx, long gfn) {
        if (ctx < 0 || ctx >= CONTEXTS) {
            throw new VmException("bad GPU context " + ctx + ": accepted 0 to " + (CONTEXTS - 1));
        }
        rootGfn[ctx] = gfn;
        revalidateRoot(ctx);
    }

    private void revalidateRoot(int ctx) {
        ShadowTable old = root[ctx];
        long gfn = rootGfn[ctx];
        ShadowTable next = null;
        byte kind = ShadowTable.NONE;
        if (gfn != 0) {
            if (reachable(gfn) && grants.isTable(gfn, GpuPte.TOP_LEVEL)) {
                next = acquire(gfn, GpuPte.TOP_LEVEL);
                kind = ShadowTable.TABLE;
            } else {
                stats.violations++;
                kind = ShadowTable.SCRATCH;
            }
        }
        root[ctx] = next;
        rootKind[ctx] = kind;
        if (old != null) {
            release(old);
        }
    }

    /** Releases what an operation's entries stopped referencing, once all its new references are taken. */
    private void releaseAll(List<ShadowTable> dropped) {
        for (ShadowTable t : dropped) {
            release(t);
        }
    }

    // ---- entries ----

    /**
     * Validates guest entry {@code v} for slot {@code i} of {@code t} and installs its shadow,
     * referencing the new target before releasing the old one.
     *
     * @param countFailure whether an invalid entry counts as a failure of the table (a guest
     *                     write: yes; populating or rebuilding: no)
     * @param dropped      receives the old target, for the caller to release at the end of its operation
     */
    private void setEntry(ShadowTable t, int i, long v, boolean countFailure, List<ShadowTable> dropped) {
        t.guest[i] = v;
        ShadowTable oldChild = t.child == null ? null : t.child[i];
        byte kind;
        ShadowTable child = null;
        long pfn = 0;
        if (!GpuPte.present(v)) {
            kind = ShadowTable.NONE;
        } else if (!GpuPte.valid(v)) {
            kind = ShadowTable.NONE;
            stats.invalidEntries++;
            if (countFailure) {
                t.failures++;
            }
        } else {
            long gfn = GpuPte.gfn(v);
            Memslot slot = vm.slotForGfn(gfn);
            boolean given = t.level > 1 ? grants.isTable(gfn, t.level - 1) : grants.isData(gfn);
            if (slot == null || !given) {
                kind = ShadowTable.SCRATCH;
                stats.violations++;
            } else if (t.level > 1) {
                child = acquire(gfn, t.level - 1);
                kind = ShadowTable.TABLE;
            } else {
                pfn = slot.hostFrame(gfn);
                kind = ShadowTable.PAGE;
            }
        }
        t.kind[i] = kind;
        if (t.child != null) {
            t.child[i] = child;
        } else {
            t.pfn[i] = pfn;
        }
        if (oldChild != null) {
            dropped.add(oldChild);
        }
    }

    private boolean reachable(long gfn) {
        return vm.slotForGfn(gfn) != null;
    }

    /** The shadow of table {@code gfn} at {@code level} with one more reference, shadowing it if needed. */
    private ShadowTable acquire(long gfn, int level) {
        ShadowTable t = tables.get(gfn);
        if (t == null) {
            t = shadow(gfn, level);
        } else if (t.level != level) {
            throw new IllegalStateException("gfn 0x" + Long.toHexString(gfn) + " shadowed at level " + t.level
                    + ", referenced at " + level + " though its grant names one level");
        }
        t.refs++;
        return t;
    }

    /** {@code ppgtt_populate_spt}: write-protect, publish, read and validate every entry. */
    private ShadowTable shadow(long gfn, int level) {
        ShadowTable t = new ShadowTable(gfn, level);
        pageTrack.add(vm, gfn, TrackMode.WRITE);
        tables.put(gfn, t);
        publish();
        stats.tablesShadowed++;
        long base = gfn << 12;
        List<ShadowTable> none = new ArrayList<>(0); // a new table has no old targets
        for (int i = 0; i < GpuPte.ENTRIES; i++) {
            setEntry(t, i, vm.memory().read(base + 8L * i, 8), false, none);
        }
        return t;
    }

    private void release(ShadowTable t) {
        if (--t.refs > 0) {
            return;
        }
        tables.remove(t.gfn);
        publish();
        stats.tablesUnshadowed++;
        if (t.tracked) {
            try {
                pageTrack.remove(vm, t.gfn, TrackMode.WRITE);
            } catch (VmException e) {
                // its slot went away under us: the track went with it
            }
        }
        if (t.child != null) {
            for (int i = 0; i < GpuPte.ENTRIES; i++) {
                ShadowTable c = t.child[i];
                if (c != null) {
                    t.child[i] = null;
                    t.kind[i] = ShadowTable.NONE;
                    release(c);
                }
            }
        }
    }

    private void publish() {
        long[] a = new long[tables.size()];
        int n = 0;
        for (long g : tables.keySet()) {
            a[n++] = g;
        }
        Arrays.sort(a);
        protectedGfns = a;
    }

    // ---- guest writes ----

    /**
     * A guest's emulated write of {@code bytes} at {@code gpa}, in a page we shadow. 4 and 8 bytes:
     * every entry the write touched is re-read from guest memory and validated. Other sizes are
     * rejected. Either way a table with more than {@value #MAX_FAILURES} failures is rebuilt.
     *
     * @return false if the page is not a shadowed table (not ours)
     */
    boolean trackWrite(long gpa, int bytes) {
        ShadowTable t = tables.get(gpa >>> 12);
        if (t == null) {
            return false;
        }
        stats.writes++;
        t.writes++;
        if (bytes != 4 && bytes != 8) {
            stats.rejections++;
            t.failures++;
        } else {
            stats.writesHandled++;
            int off = (int) (gpa & 4095);
            int last = Math.min(off + bytes - 1, 4095) >>> 3;
            long base = (gpa >>> 12) << 12;
            List<ShadowTable> dropped = new ArrayList<>(2);
            for (int i = off >>> 3; i <= last; i++) {
                setEntry(t, i, vm.memory().read(base + 8L * i, 8), true, dropped);
            }
            releaseAll(dropped);
        }
        if (t.failures > MAX_FAILURES && tables.get(t.gfn) == t) {
            rebuild(t);
        }
        return true;
    }

    /** Invalidates the table's shadow and rebuilds it from guest memory; failures start over. */
    void rebuild(ShadowTable t) {
        stats.rebuilds++;
        long base = t.gfn << 12;
        List<ShadowTable> dropped = new ArrayList<>();
        for (int i = 0; i < GpuPte.ENTRIES; i++) {
            setEntry(t, i, vm.memory().read(base + 8L * i, 8), false, dropped);
        }
        t.failures = 0;
        releaseAll(dropped);
    }

    // ---- grants and memslots going away ----

    /** The driver takes page {@code gfn} back: every shadow entry that used it is revalidated (scratch). */
    void revoke(long gfn) {
        if (grants.revoke(gfn)) {
            revalidate(gfn, 1);
        }
    }

    /**
     * {@code track_remove_region}: the memslot holding {@code [gfn, gfn + npages)} is deleted. Its
     * tracks died with it; grants there are forgotten; every entry that pointed there is
     * revalidated (scratch), so tables there are unshadowed and no shadow entry keeps a page of
     * the deleted memory.
     *
     * @return whether anything of this vGPU lay in the range
     */
    boolean removeRegion(long gfn, long npages) {
        boolean touched = grants.removeRange(gfn, npages) > 0;
        for (ShadowTable t : tables.values()) {
            if (t.gfn >= gfn && t.gfn - gfn < npages) {
                t.tracked = false;
                touched = true;
            }
        }
        touched |= revalidate(gfn, npages);
        return touched;
    }

    /**
     * Revalidates, from the shadow's own view, every root and every entry of every table shadowed
     * now that points into the range (they become scratch: the pages are no longer given, or no
     * longer exist), then releases what they referenced.
     */
    private boolean revalidate(long gfn, long npages) {
        boolean any = false;
        List<ShadowTable> dropped = new ArrayList<>();
        for (int c = 0; c < CONTEXTS; c++) {
            long r = rootGfn[c];
            if (r != 0 && r >= gfn && r - gfn < npages) {
                if (root[c] != null) {
                    dropped.add(root[c]);
                    root[c] = null;
                }
                rootKind[c] = ShadowTable.SCRATCH;
                stats.violations++;
                any = true;
            }
        }
        for (ShadowTable t : tables()) {
            for (int i = 0; i < GpuPte.ENTRIES; i++) {
                long v = t.guest[i];
                long g = GpuPte.gfn(v);
                if (GpuPte.present(v) && GpuPte.valid(v) && g >= gfn && g - gfn < npages) {
                    setEntry(t, i, v, false, dropped);
                    any = true;
                }
            }
        }
        releaseAll(dropped);
        return any;
    }

    /** Drops every shadow (the vGPU is detached): every track is given back. */
    void clear() {
        for (int c = 0; c < CONTEXTS; c++) {
            rootGfn[c] = 0;
            revalidateRoot(c);
        }
    }
}
