package org.shadowbox.mmu.internal.tdp;

import org.shadowbox.vm.spi.Platform;

import java.util.Arrays;

import org.shadowbox.mmu.internal.shadow.VcpuMode;
import org.shadowbox.mmu.internal.shadow.VcpuRequests;
import org.shadowbox.mmu.internal.shadow.Spte;
import org.shadowbox.mmu.internal.shadow.VmCounters;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.spi.PlatformVm;

/**
 * The TDP MMU of one VM: one 4-level EPT-like table that maps gpa to host frame
 * ({@link Memslot#hostFrame}), KVM's direct map of 2016 ({@code __direct_map},
 * {@code mmu_set_spte} with {@code ACC_ALL}), the write protection page track asks for
 * ({@code kvm_mmu_slot_gfn_write_protect}) and remote TLB flushes. The fault handler is
 * {@link TdpFault}; each vCPU is a {@link TdpVcpu}.
 *
 * <p>Entries use the spte layout of {@link Spte}: a leaf holds the host frame, P, W,
 * {@code MMU_WRITEABLE}, {@code HOST_WRITEABLE} and PS for a 2 MiB or 1 GiB leaf; a
 * non-leaf entry names a child table by id. Every right but W is always granted (KVM maps
 * TDP with {@code ACC_ALL}); the guest's own rights come from its own walk.
 *
 * <p>Since the map is direct, a gfn is mapped by at most one leaf, found by walking the
 * table for it: that is this MMU's reverse map. Locking: everything that changes the table
 * holds {@code kvm->mmu_lock}, and so do the checker's and the fault path's reads. The
 * processor's walk on a TLB miss ({@link #leafLockless}) reads it without the lock, as the TDP
 * MMU's {@code kvm_tdp_mmu_walk_lockless_begin}/{@code _end} and the shadow MMU's lockless walk
 * do: every entry is stored with release semantics ({@link #setEntry}), so a walker that loads a
 * link (acquire) sees the child table fully built; a table unlinked by a zap is freed, and its
 * id reused, only after the remote flush that follows the zap has waited for every walker
 * ({@link #flushRemoteTlbs}: {@code VcpuMode}'s grace period, KVM's RCU), so a child id a walker
 * read still names the table it named, whose entries are their old values or 0.
 */
public final class TdpMmu {
    /** Levels of the table (a 4-level EPT). */
    public static final int ROOT_LEVEL = 4;

    final Vm vm;
    final PageTrack pageTrack;
    /** The VM-wide counters (vCPU counters live in each {@link TdpVcpu}). */
    final VmCounters<TdpCounter, TdpStats> stats = new VmCounters<>(TdpCounter.class);
    private final TdpVcpu[] vcpus;
    /** Each vCPU's request word and mode, for the remote flush's wait ({@link VcpuMode}). */
    private final VcpuRequests[] vcpuRequests;
    // Table pages by id (id 0 is never used: a zero address field names no table).
    private static final java.lang.invoke.VarHandle ENTRY = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);
    /**
     * Table pages by id; volatile because it is replaced when it grows and the lockless walk
     * reads it (a table is linked, with a release store, after its slot here was written).
     */
    private volatile long[][] tables = new long[64][];
    private int[] tableLevel = new int[64];
    private long[] tableGfn = new long[64];
    private int[] freeIds = new int[64];
    private int freeCount;
    /** Tables unlinked by a zap, freed after the next remote flush's grace period. MMU lock. */
    private int[] zappedIds = new int[16];
    private int zappedCount;
    private int nextId = 1;
    private int used;
    /** Bytes of one table page, charged to the VM's memory budget while it exists. */
    static final long TABLE_BYTES = Spte.ENTRIES * 8L;
    /** Where table pages are charged ({@code GFP_KERNEL_ACCOUNT}); null for a VM outside the platform. */
    private final PlatformVm account;
    private final int root;
    /** The level of the leaf the last {@link #leaf} found; guarded by the MMU lock. */
    private int leafLevel;
    /** The entries the last {@link #leaf} read; guarded by the MMU lock. */
    private int leafWalkSteps;
    /**
     * {@code policy=legacy}: the TDP fault path of KVM before the page-track series, which never
     * asks page track ({@link TdpFault}).
     */
    final boolean legacy;

    /**
     * @param pageTrack  page track as the MMU's owner (the TDP MMU only asks {@code is_active})
     * @param tlbEntries TLB entries per vCPU (a power of two)
     */
    public TdpMmu(Vm vm, PageTrack pageTrack, int tlbEntries) {
        this.vm = vm;
        this.pageTrack = pageTrack;
        this.legacy = VmSpec.POLICY_LEGACY.equals(vm.spec().option(VmSpec.POLICY));
        this.account = vm instanceof PlatformVm p ? p : null;
        this.root = alloc(ROOT_LEVEL, 0);
        this.vcpus = new TdpVcpu[vm.vcpuCount()];
        for (int i = 0; i < vcpus.length; i++) {
            vcpus[i] = new TdpVcpu(this, vm.vcpu(i), tlbEntries);
        }
        this.vcpuRequests = new VcpuRequests[vcpus.length];
        for (int i = 0; i < vcpus.length; i++) {
            vcpuRequests[i] = vcpus[i].requests;
        }
    }

    public Vm vm() {
        return vm;
    }

    public TdpVcpu vcpu(int id) {
        if (id < 0 || id >= vcpus.length) {
            throw new VmException("no vCPU " + id + " in VM " + vm.name() + ": accepted 0 to " + (vcpus.length - 1));
        }
        return vcpus[id];
    }

    public int vcpuCount() {
        return vcpus.length;
    }

    /** The VM's counters plus every vCPU's, as one snapshot. */
    public TdpStats stats() {
        TdpStats s = new TdpStats();
        Platform.mmuLock(vm).lock();
        try {
            stats.addTo(s);
        } finally {
            Platform.mmuLock(vm).unlock();
        }
        for (TdpVcpu v : vcpus) {
            v.meter.addOwn(s);
            s.add(TdpCounter.TLB_HIT, v.meter.hits()); // the fast case's hits: counted once, by the meter
        }
        return s;
    }

    /** Table pages in use, the root included. */
    public int tablePages() {
        return used;
    }

    // ---- the table ----

    /** Index of {@code gfn}'s entry in a table of {@code level} (SHADOW_PT_INDEX on a gpa). */
    static int index(long gfn, int level) {
        return (int) ((gfn >>> (9 * (level - 1))) & 511);
    }

    /** First gfn of the frame of {@code level} that holds {@code gfn}. */
    static long frameBase(long gfn, int level) {
        return gfn & -(1L << (9 * (level - 1)));
    }

    // Read-only views for the checker and the OSGi adapter (mmu:walk, mmu:pages): caller holds the MMU lock.

    /** The root table's id. */
    public int root() {
        return root;
    }

    /** Entry {@code index} of table {@code id}. Caller holds the MMU lock. */
    public long entry(int id, int index) {
        return tables[id][index];
    }

    long[] table(int id) {
        return tables[id];
    }

    /** The level of table {@code id} (4 for the root). Caller holds the MMU lock. */
    public int tableLevel(int id) {
        return tableLevel[id];
    }

    /** The first gfn of the guest-physical range table {@code id} maps. Caller holds the MMU lock. */
    public long tableGfn(int id) {
        return tableGfn[id];
    }

    /** Ids handed out so far (live or free). Caller holds the MMU lock. */
    public int idLimit() {
        return nextId;
    }

    /** Whether {@code id} names a table in use. Caller holds the MMU lock. */
    public boolean live(int id) {
        return id > 0 && id < nextId && tables[id] != null;
    }

    /**
     * The leaf entry that maps {@code gfn}, or 0; {@link #leafLevel()} is then its level.
     * The hardware's TDP walk. Caller holds the MMU lock.
     */
    long leaf(long gfn) {
        int id = root;
        for (int level = ROOT_LEVEL; level >= 1; level--) {
            long e = tables[id][index(gfn, level)];
            leafWalkSteps = ROOT_LEVEL - level + 1;
            if (!Spte.isPresent(e)) {
                return 0;
            }
            if (Spte.isLast(e, level)) {
                leafLevel = level;
                return e;
            }
            id = Spte.childId(e);
        }
        return 0;
    }

    /**
     * The processor's TDP walk on a TLB miss, without the MMU lock: the leaf entry that maps
     * {@code gfn}, or 0. Call it between {@code VcpuMode.beginLockless} and {@code endLockless}
     * of the vCPU's own thread (the grace period that keeps every table it reaches from being
     * freed). The level of the leaf and the entries read go to {@code v}'s {@link
     * TdpVcpu#walkLevel} and {@link TdpVcpu#walkSteps}, not to this shared object.
     */
    long leafLockless(long gfn, TdpVcpu v) {
        int id = root;
        for (int level = ROOT_LEVEL; level >= 1; level--) {
            long e = (long) ENTRY.getAcquire(tables[id], index(gfn, level));
            v.walkSteps = ROOT_LEVEL - level + 1;
            if (!Spte.isPresent(e)) {
                return 0;
            }
            if (Spte.isLast(e, level)) {
                v.walkLevel = level;
                return e;
            }
            id = Spte.childId(e);
            if (v.duringWalk != null) {
                v.duringWalk.run(); // a test holds the walk here, a child id in hand
            }
        }
        return 0;
    }

    /** Entry {@code idx} of {@code table} becomes {@code e}: a release store (see the class comment). MMU lock held. */
    private static void setEntry(long[] table, int idx, long e) {
        ENTRY.setRelease(table, idx, e);
    }

    /** The level of the leaf the last {@link #leaf} call returned. */
    int leafLevel() {
        return leafLevel;
    }

    /** How many entries the last {@link #leaf} call read (1 to 4). */
    int leafWalkSteps() {
        return leafWalkSteps;
    }

    /** Whether the VM runs KVM's TDP fault path from before the page-track series ({@code policy=legacy}). */
    public boolean legacy() {
        return legacy;
    }

    /**
     * {@code tdp_mmu_alloc_sp}: a zeroed table page for {@code level}, charged first to the VM's
     * memory budget as KVM charges it to the VM's memory cgroup ({@code GFP_KERNEL_ACCOUNT}): past
     * the budget the fault is refused in the budget's one line before anything changes here (the
     * tables linked so far on the way down stay, empty, as after a zap of their leaves). Caller
     * holds the MMU lock (the constructor excepted).
     */
    private int alloc(int level, long gfn) {
        if (account != null) {
            account.charge(TABLE_BYTES, "allocating a 4 KiB TDP table page for gfn 0x" + Long.toHexString(gfn)
                    + " (tdp_mmu_alloc_sp)");
        }
        int id = freeCount > 0 ? freeIds[--freeCount] : nextId++;
        if (id >= tables.length) {
            int n = tables.length * 2;
            tables = Arrays.copyOf(tables, n);
            tableLevel = Arrays.copyOf(tableLevel, n);
            tableGfn = Arrays.copyOf(tableGfn, n);
        }
        tables[id] = new long[Spte.ENTRIES];
        tableLevel[id] = level;
        tableGfn[id] = frameBase(gfn, level + 1);
        used++;
        return id;
    }

    /** A zapped, unlinked table: freed by the next {@link #flushRemoteTlbs}, after its wait. */
    private void zapped(int id) {
        if (zappedCount == zappedIds.length) {
            zappedIds = Arrays.copyOf(zappedIds, zappedCount * 2);
        }
        zappedIds[zappedCount++] = id;
    }

    private void free(int id) {
        tables[id] = null;
        if (freeCount == freeIds.length) {
            freeIds = Arrays.copyOf(freeIds, freeCount * 2);
        }
        freeIds[freeCount++] = id;
        used--;
        if (account != null) {
            account.uncharge(TABLE_BYTES);
        }
    }

    /**
     * {@code __direct_map} with {@code mmu_set_spte}: makes the tables down to {@code level}
     * (a large leaf in the way is dropped, {@code drop_large_spte}) and installs the leaf of
     * {@code gfn}'s frame there, writable or not (a table in the way of a large leaf is
     * zapped). Remote TLBs are flushed when a present mapping lost rights or went away.
     * Caller holds the MMU lock.
     */
    void map(long gfn, int level, boolean writable, Memslot slot) {
        boolean flush = false;
        int id = root;
        for (int l = ROOT_LEVEL; l > level; l--) {
            int idx = index(gfn, l);
            long e = tables[id][idx];
            if (Spte.isPresent(e) && Spte.isLarge(e)) {
                dropLeaf(id, idx);
                flush = true;
                e = 0;
            }
            if (!Spte.isPresent(e)) {
                int child = alloc(l - 1, gfn);
                stats.inc(TdpCounter.MMU_CACHE_MISS);
                e = Spte.makeNonLeaf(child);
                setEntry(tables[id], idx, e);
            }
            id = Spte.childId(e);
        }
        int idx = index(gfn, level);
        long old = tables[id][idx];
        if (Spte.isPresent(old) && !Spte.isLast(old, level)) {
            setEntry(tables[id], idx, 0); // unlinked before it is zapped
            zapTable(Spte.childId(old)); // a large leaf replaces a table
            old = 0;
            flush = true;
        }
        long base = frameBase(gfn, level);
        long e = (slot.hostFrame(base) << 12) | Spte.PRESENT | Spte.ACCESSED;
        if (!slot.readonly()) {
            e |= Spte.HOST_WRITEABLE;
        }
        if (writable) {
            e |= Spte.WRITABLE | Spte.MMU_WRITEABLE | Spte.DIRTY;
            if (slot.dirtyLogging()) {
                Platform.slot(slot).markPageDirty(gfn); // set_spte's kvm_vcpu_mark_page_dirty
            }
        }
        if (level > 1) {
            e |= Spte.LARGE;
            if (!Spte.isPresent(old)) {
                stats.inc(TdpCounter.LPAGES);
            }
        }
        if (Spte.isPresent(old) && (Spte.pfn(old) != Spte.pfn(e) || (Spte.isWritable(old) && !writable))) {
            flush = true;
        }
        setEntry(tables[id], idx, e);
        if (flush) {
            flushRemoteTlbs();
        }
    }

    private void dropLeaf(int id, int idx) {
        if (tableLevel[id] > 1) {
            stats.add(TdpCounter.LPAGES, -1);
        }
        setEntry(tables[id], idx, 0);
    }

    /**
     * Zaps table {@code id} and everything below it; they are freed by the remote flush the
     * caller makes after unlinking it (walkers may still be reading them until then).
     */
    private void zapTable(int id) {
        long[] t = tables[id];
        for (int i = 0; i < Spte.ENTRIES; i++) {
            long e = t[i];
            if (!Spte.isPresent(e)) {
                continue;
            }
            if (Spte.isLast(e, tableLevel[id])) {
                dropLeaf(id, i);
            } else {
                zapTable(Spte.childId(e));
            }
        }
        zapped(id);
        stats.inc(TdpCounter.MMU_SHADOW_ZAPPED);
    }

    // ---- page track's hook and flushes ----

    /**
     * {@code kvm_mmu_slot_gfn_write_protect}: the leaf that maps {@code gfn}, whatever its
     * level, loses W and {@code MMU_WRITEABLE}. Caller holds the MMU lock.
     *
     * @return true if an entry changed
     */
    public boolean slotGfnWriteProtect(long gfn) {
        long e = leaf(gfn);
        if ((e & (Spte.WRITABLE | Spte.MMU_WRITEABLE)) == 0) {
            return false;
        }
        int id = root;
        for (int level = ROOT_LEVEL; level > leafLevel; level--) {
            id = Spte.childId(tables[id][index(gfn, level)]);
        }
        setEntry(tables[id], index(gfn, leafLevel), e & ~(Spte.WRITABLE | Spte.MMU_WRITEABLE));
        stats.inc(TdpCounter.GFN_WRITE_PROTECT);
        return true;
    }

    /** {@code kvm_flush_remote_tlbs}: a TLB-flush request to every vCPU, served before its next access. */
    public void flushRemoteTlbs() {
        stats.inc(TdpCounter.REMOTE_TLB_FLUSH);
        boolean ipi = false;
        for (TdpVcpu v : vcpus) {
            stats.inc(TdpCounter.REMOTE_FLUSH_REQUESTS);
            ipi |= v.requestRemoteTlbFlush();
        }
        if (ipi) {
            stats.inc(TdpCounter.REMOTE_FLUSH_IPIS);
        }
        VcpuMode.waitForVcpus(vcpuRequests); // no vCPU still stores through what was flushed, nor walks it
        if (Platform.mmuLock(vm).isHeldByCurrentThread()) { // zaps happen, and are flushed, under the lock
            while (zappedCount > 0) {
                free(zappedIds[--zappedCount]); // the grace period is over: kvm_tdp_mmu_free_sp after RCU
            }
        }
    }

    /** {@code kvm_mmu_zap_all}: every mapping goes (a memslot is deleted or moved). Takes the MMU lock. */
    public void zapAll() {
        Platform.mmuLock(vm).lock();
        try {
            long[] t = tables[root];
            for (int i = 0; i < Spte.ENTRIES; i++) {
                if (Spte.isPresent(t[i])) {
                    int child = Spte.childId(t[i]);
                    setEntry(t, i, 0);
                    zapTable(child);
                }
            }
            flushRemoteTlbs();
        } finally {
            Platform.mmuLock(vm).unlock();
        }
    }
}
