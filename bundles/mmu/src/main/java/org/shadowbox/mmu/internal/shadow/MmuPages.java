package org.shadowbox.mmu.internal.shadow;

import java.util.Arrays;

/**
 * The VM's shadow pages: the table by id, the hash by gfn ({@code mmu_page_hash},
 * {@code KVM_NUM_MMU_PAGES} buckets) and the active list ({@code active_mmu_pages},
 * newest first, the oldest recycled first). Counts the hash chain steps walked: the cost
 * model's "shadow-page hash chain steps". Guarded by the VM's MMU lock, but for
 * {@link #getLockless}: the table by id is published for the lockless walks ({@link
 * VcpuMode}), a slot with a release store once its page is built, the array itself through a
 * volatile field when it grows (the old array keeps every slot a walker may still look up).
 */
final class MmuPages {
    private static final java.lang.invoke.VarHandle SLOT =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(ShadowPage[].class);

    /** KVM_MMU_HASH_SHIFT. */
    static final int HASH_SHIFT = 10;
    /** KVM_NUM_MMU_PAGES: hash buckets. */
    static final int NUM_MMU_PAGES = 1 << HASH_SHIFT;

    private volatile ShadowPage[] byId = new ShadowPage[64];
    private int[] freeIds = new int[64];
    private int freeCount;
    private int nextId = 1; // id 0 is never used: a zero address field names no page
    private final int[] buckets = new int[NUM_MMU_PAGES];
    private int activeHead = -1;
    private int activeTail = -1;
    /** {@code n_used_mmu_pages}. */
    private int used;
    /** Hash chain entries visited by lookups. */
    long hashChainSteps;
    /** Hash chain walks begun ({@link #first}): with {@link #hashChainSteps}, the mean chain walked. */
    long hashLookups;
    /** The most pages live at once ({@code n_used_mmu_pages}'s high-water mark). */
    private int peakUsed;

    MmuPages() {
        Arrays.fill(buckets, -1);
    }

    /** {@code kvm_page_table_hashfn}. */
    static int hashfn(long gfn) {
        return (int) (gfn & (NUM_MMU_PAGES - 1));
    }

    /** The page of {@code id}, or null. MMU lock held. */
    ShadowPage get(int id) {
        ShadowPage[] a = byId;
        return id > 0 && id < a.length ? a[id] : null;
    }

    /**
     * The page of {@code id} for a lockless walker: an acquire load, so the page is seen fully
     * built. The id came from an spte the walker read; it is not reused before the walker is out
     * ({@link VcpuMode}), so this is the page the spte named, perhaps zapped since.
     */
    ShadowPage getLockless(int id) {
        ShadowPage[] a = byId;
        return id > 0 && id < a.length ? (ShadowPage) SLOT.getAcquire(a, id) : null;
    }

    int used() {
        return used;
    }

    /** The most pages that were live at once. */
    int peakUsed() {
        return peakUsed;
    }

    /** The first page of the chain of {@code gfn}'s bucket, or null; follow with {@link #next}. */
    ShadowPage first(long gfn) {
        hashLookups++;
        return chain(buckets[hashfn(gfn)]);
    }

    /** The next page of {@code sp}'s hash chain, or null. Counts a chain step. */
    ShadowPage next(ShadowPage sp) {
        return chain(sp.hashNext);
    }

    private ShadowPage chain(int id) {
        if (id < 0) {
            return null;
        }
        hashChainSteps++;
        return byId[id];
    }

    /**
     * {@code kvm_mmu_alloc_page} plus the hash insertion of {@code kvm_mmu_get_page}: a new
     * page at the head of its bucket and of the active list, its tables taken from the
     * vCPU's {@code cache}, topped up before the MMU lock was taken.
     */
    ShadowPage alloc(long gfn, int role, MmuMemoryCache cache) {
        int id = freeCount > 0 ? freeIds[--freeCount] : nextId++;
        ShadowPage[] a = byId;
        if (id >= a.length) {
            a = Arrays.copyOf(a, a.length * 2);
            byId = a; // volatile: published with every slot copied
        }
        ShadowPage sp = new ShadowPage(id, gfn, role, cache.alloc(), Role.direct(role) ? null : cache.alloc());
        SLOT.setRelease(a, id, sp);
        int b = hashfn(gfn);
        sp.hashNext = buckets[b];
        buckets[b] = id;
        sp.activeNext = activeHead;
        if (activeHead >= 0) {
            byId[activeHead].activePrev = id;
        } else {
            activeTail = id;
        }
        activeHead = id;
        used++;
        if (used > peakUsed) {
            peakUsed = used;
        }
        return sp;
    }

    /** {@code kvm_mmu_free_page}: out of the hash, the active list and the table. */
    void free(ShadowPage sp) {
        int b = hashfn(sp.gfn);
        if (buckets[b] == sp.id) {
            buckets[b] = sp.hashNext;
        } else {
            ShadowPage p = byId[buckets[b]];
            while (p.hashNext != sp.id) {
                p = byId[p.hashNext];
            }
            p.hashNext = sp.hashNext;
        }
        unlinkActive(sp);
        SLOT.setRelease(byId, sp.id, (ShadowPage) null);
        if (freeCount == freeIds.length) {
            freeIds = Arrays.copyOf(freeIds, freeCount * 2);
        }
        freeIds[freeCount++] = sp.id;
        used--;
    }

    /** Moves a zapped root to the head of the active list, as KVM's prepare_zap does. */
    void moveToHead(ShadowPage sp) {
        unlinkActive(sp);
        sp.activeNext = activeHead;
        sp.activePrev = -1;
        if (activeHead >= 0) {
            byId[activeHead].activePrev = sp.id;
        } else {
            activeTail = sp.id;
        }
        activeHead = sp.id;
    }

    private void unlinkActive(ShadowPage sp) {
        if (sp.activePrev >= 0) {
            byId[sp.activePrev].activeNext = sp.activeNext;
        } else {
            activeHead = sp.activeNext;
        }
        if (sp.activeNext >= 0) {
            byId[sp.activeNext].activePrev = sp.activePrev;
        } else {
            activeTail = sp.activePrev;
        }
        sp.activePrev = sp.activeNext = -1;
    }

    /** The oldest page of the active list, or null. */
    ShadowPage oldest() {
        return activeTail < 0 ? null : byId[activeTail];
    }

    /** The newest page of the active list, or null; follow with {@link #older}. */
    ShadowPage newest() {
        return activeHead < 0 ? null : byId[activeHead];
    }

    ShadowPage older(ShadowPage sp) {
        return sp.activeNext < 0 ? null : byId[sp.activeNext];
    }
}
