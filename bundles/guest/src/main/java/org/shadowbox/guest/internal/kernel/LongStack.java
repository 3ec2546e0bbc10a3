package org.shadowbox.guest.internal.kernel;

/** A growable stack of longs, reused so the hot paths allocate nothing once it has grown. */
final class LongStack {
    private long[] a = new long[64];
    private int n;

    void push(long v) {
        if (n == a.length) {
            a = java.util.Arrays.copyOf(a, n * 2);
        }
        a[n++] = v;
    }

    int size() {
        return n;
    }

    long get(int i) {
        return a[i];
    }

    void clear() {
        n = 0;
    }
}
