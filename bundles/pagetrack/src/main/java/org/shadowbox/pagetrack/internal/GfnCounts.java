package org.shadowbox.pagetrack.internal;

import java.util.Arrays;

/**
 * One owner's tracks in one memslot for one mode: a primitive gfn -> count map (open
 * addressing, linear probing, backward-shift deletion). No boxing; an entry whose count
 * reaches 0 is removed, so {@link #size()} is the number of gfns the owner holds.
 *
 * <p>Not thread-safe: guarded by the VM's MMU lock, like the slot counters it shadows.
 */
final class GfnCounts {
    /** Gfns are never negative, so -1 marks a free cell. */
    private static final long FREE = -1L;
    private static final int MIN_CAPACITY = 8;

    private long[] keys;
    private int[] values;
    private int mask;
    private int size;

    GfnCounts() {
        allocate(MIN_CAPACITY);
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        Arrays.fill(keys, FREE);
        values = new int[capacity];
        mask = capacity - 1;
    }

    private static int hash(long gfn) {
        // Fibonacci hashing spreads the consecutive gfns a guest page table range produces.
        return (int) ((gfn * 0x9E3779B97F4A7C15L) >>> 32);
    }

    private int indexOf(long gfn) {
        int i = hash(gfn) & mask;
        while (true) {
            long k = keys[i];
            if (k == gfn) {
                return i;
            }
            if (k == FREE) {
                return -1;
            }
            i = (i + 1) & mask;
        }
    }

    /** This owner's count of {@code gfn}, 0 if none. */
    int get(long gfn) {
        int i = indexOf(gfn);
        return i < 0 ? 0 : values[i];
    }

    /**
     * Adds {@code delta} to the count of {@code gfn} and returns the new count; an entry
     * reaching 0 disappears. A count may not go below 0.
     */
    int add(long gfn, int delta) {
        if (gfn < 0) {
            throw new IllegalArgumentException("negative gfn " + gfn);
        }
        int i = indexOf(gfn);
        if (i >= 0) {
            int v = values[i] + delta;
            if (v < 0) {
                throw new IllegalStateException("owner count of gfn 0x" + Long.toHexString(gfn) + " would go below 0");
            }
            if (v == 0) {
                removeAt(i);
            } else {
                values[i] = v;
            }
            return v;
        }
        if (delta < 0) {
            throw new IllegalStateException("owner count of gfn 0x" + Long.toHexString(gfn) + " would go below 0");
        }
        if (delta == 0) {
            return 0;
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        insert(gfn, delta);
        size++;
        return delta;
    }

    private void insert(long gfn, int value) {
        int i = hash(gfn) & mask;
        while (keys[i] != FREE) {
            i = (i + 1) & mask;
        }
        keys[i] = gfn;
        values[i] = value;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        allocate(oldKeys.length * 2);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != FREE) {
                insert(oldKeys[i], oldValues[i]);
            }
        }
    }

    /** Backward-shift deletion: no tombstones, so probes stay short after many removes. */
    private void removeAt(int hole) {
        int j = hole;
        while (true) {
            j = (j + 1) & mask;
            long k = keys[j];
            if (k == FREE) {
                break;
            }
            int home = hash(k) & mask;
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            boolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                keys[hole] = k;
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = FREE;
        values[hole] = 0;
        size--;
    }

    /** Number of gfns held. */
    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The held gfns, sorted. */
    long[] sortedGfns() {
        long[] out = new long[size];
        int n = 0;
        for (long k : keys) {
            if (k != FREE) {
                out[n++] = k;
            }
        }
        Arrays.sort(out);
        return out;
    }
}
