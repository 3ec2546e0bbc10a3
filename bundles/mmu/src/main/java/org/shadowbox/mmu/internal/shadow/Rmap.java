package org.shadowbox.mmu.internal.shadow;

import java.util.Arrays;

/**
 * Reverse maps ({@code kvm_rmap_head}, {@code slot->arch.rmap[level]}): for each (gfn, level)
 * the leaf sptes that map it, as encoded sptep {@code long}s. A large spte is recorded under
 * the first gfn of its frame. Open addressing with linear probing and backward-shift
 * deletion over primitive arrays: no boxing, and nothing allocated once a key's array has
 * room. The array of a key whose last spte goes is kept for the next new key (up to
 * {@link #MAX_FREE} of them), as KVM's {@code pte_list_desc} go back to their slab cache: a
 * zap and a refault of the same mappings (ShadowFaultBench, a guest's exit and re-exec)
 * allocate nothing. Guarded by the VM's MMU lock.
 */
final class Rmap {
    private static final long EMPTY = -1L;
    /** At most this many freed arrays are kept for reuse. */
    static final int MAX_FREE = 4096;

    private long[] keys = new long[256];
    private long[][] values = new long[256][];
    private int[] counts = new int[256];
    private int size;
    /** Arrays of keys that emptied, for new keys: {@code free[0..freeCount)}. */
    private long[][] free = new long[64][];
    private int freeCount;

    Rmap() {
        Arrays.fill(keys, EMPTY);
    }

    /** The rmap key: the gfn aligned down to {@code level}'s frame, and the level. */
    static long key(long gfn, int level) {
        int shift = (level - 1) * 9;
        return ((gfn >>> shift) << shift) << 2 | (level - 1);
    }

    /**
     * The slot a key's probe starts at: eight frames in a row of one level share a cache line of
     * {@link #keys} (KVM's {@code slot->arch.rmap[level]} is an array indexed by gfn, so the rmap
     * heads of neighbouring gfns are neighbours: a guest touching its pages in order, or a fault
     * after a zap refilling them, reaches each line once for eight gfns), and the groups of eight
     * are scattered by a multiplicative hash, so that strided frames do not pile up.
     */
    private static int home(long key, int mask) {
        int level = (int) (key & 3);
        long frame = (key >>> 2) >>> (9 * level);
        long group = ((frame >>> 3) + level) * 0x9E37_79B9_7F4A_7C15L;
        return (int) (((group >>> 40) << 3) | (frame & 7)) & mask;
    }

    private int slotOf(long key) {
        int mask = keys.length - 1;
        int i = home(key, mask);
        while (keys[i] != EMPTY && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    /** {@code rmap_add}: records {@code sptep} as mapping {@code gfn} at {@code level}. */
    void add(long gfn, int level, long sptep) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        long key = key(gfn, level);
        int i = slotOf(key);
        if (keys[i] == EMPTY) {
            keys[i] = key;
            values[i] = freeCount > 0 ? takeFree() : new long[4];
            counts[i] = 0;
            size++;
        }
        if (counts[i] == values[i].length) {
            values[i] = Arrays.copyOf(values[i], counts[i] * 2);
        }
        values[i][counts[i]++] = sptep;
    }

    /** {@code rmap_remove}: forgets {@code sptep}; it must be recorded. */
    void remove(long gfn, int level, long sptep) {
        long key = key(gfn, level);
        int i = slotOf(key);
        long[] v = values[i];
        int n = keys[i] == EMPTY ? 0 : counts[i];
        for (int j = 0; j < n; j++) {
            if (v[j] == sptep) {
                v[j] = v[--counts[i]];
                if (counts[i] == 0) {
                    delete(i);
                }
                return;
            }
        }
        throw new IllegalStateException("rmap of gfn 0x" + Long.toHexString(gfn) + " level " + level + " lacks "
                + ShadowPage.describeSptep(sptep));
    }

    /** Number of sptes that map {@code gfn}'s frame at {@code level}. */
    int count(long gfn, int level) {
        int i = slotOf(key(gfn, level));
        return keys[i] == EMPTY ? 0 : counts[i];
    }

    /**
     * The sptes of {@code gfn} at {@code level}, valid until the next change of the rmap, with
     * {@link #count}: {@code for (j < count) sptes[j]}. Null when there are none.
     */
    long[] sptes(long gfn, int level) {
        int i = slotOf(key(gfn, level));
        return keys[i] == EMPTY ? null : values[i];
    }

    boolean contains(long gfn, int level, long sptep) {
        long[] v = sptes(gfn, level);
        int n = count(gfn, level);
        for (int j = 0; j < n; j++) {
            if (v[j] == sptep) {
                return true;
            }
        }
        return false;
    }

    /** Total sptes recorded, for the checker. */
    long total() {
        long t = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                t += counts[i];
            }
        }
        return t;
    }

    /** Calls {@code visitor} for every (gfn, level, sptep) recorded; for the checker. */
    void forEach(Visitor visitor) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                long gfn = keys[i] >>> 2;
                int level = (int) (keys[i] & 3) + 1;
                for (int j = 0; j < counts[i]; j++) {
                    visitor.visit(gfn, level, values[i][j]);
                }
            }
        }
    }

    interface Visitor {
        void visit(long gfn, int level, long sptep);
    }

    private long[] takeFree() {
        long[] a = free[--freeCount];
        free[freeCount] = null;
        return a;
    }

    private void recycle(long[] a) {
        if (freeCount == free.length) {
            if (freeCount == MAX_FREE) {
                return;
            }
            free = Arrays.copyOf(free, Math.min(MAX_FREE, freeCount * 2));
        }
        free[freeCount++] = a;
    }

    /** Backward-shift deletion: keeps every probe sequence unbroken without tombstones. */
    private void delete(int i) {
        recycle(values[i]);
        int mask = keys.length - 1;
        int hole = i;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            if (keys[j] == EMPTY) {
                break;
            }
            int home = home(keys[j], mask);
            // Move j into the hole unless its home lies cyclically in (hole, j].
            boolean stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!stays) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                counts[hole] = counts[j];
                hole = j;
            }
        }
        keys[hole] = EMPTY;
        values[hole] = null;
        counts[hole] = 0;
        size--;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[][] oldValues = values;
        int[] oldCounts = counts;
        keys = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        values = new long[keys.length][];
        counts = new int[keys.length];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                int s = slotOf(oldKeys[i]);
                keys[s] = oldKeys[i];
                values[s] = oldValues[i];
                counts[s] = oldCounts[i];
            }
        }
    }
}
