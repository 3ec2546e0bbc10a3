package org.shadowbox.vm.internal;

import java.util.Arrays;
import java.util.List;

/**
 * An immutable set of memslots sorted by base gfn ({@code struct kvm_memslots}), replaced
 * whole on every change so that readers need no lock. {@link #find} is
 * {@code search_memslots}: a binary search behind a one-entry cache of the last hit.
 */
final class Memslots {
    static final Memslots EMPTY = new Memslots(new MemslotImpl[0]);

    private final MemslotImpl[] slots;
    private final long[] bases;
    /** Benign race: any slot of this snapshot is a correct hint. */
    private MemslotImpl lastHit;

    Memslots(MemslotImpl[] sorted) {
        this.slots = sorted;
        this.bases = new long[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            bases[i] = sorted[i].baseGfn();
        }
    }

    MemslotImpl find(long gfn) {
        MemslotImpl hint = lastHit;
        if (hint != null && gfn >= hint.baseGfn() && gfn < hint.endGfn()) {
            return hint;
        }
        MemslotImpl s = search(gfn);
        if (s != null) {
            lastHit = s;
        }
        return s;
    }

    /**
     * {@code search_memslots} alone: the binary search, without the shared hint (a vCPU keeps
     * its own, {@link VcpuMemory}).
     */
    MemslotImpl search(long gfn) {
        int lo = 0;
        int hi = bases.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (bases[mid] <= gfn) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (hi < 0) {
            return null;
        }
        MemslotImpl s = slots[hi];
        return gfn < s.endGfn() ? s : null;
    }

    MemslotImpl byId(int id) {
        for (MemslotImpl s : slots) {
            if (s.id() == id) {
                return s;
            }
        }
        return null;
    }

    /** The first slot other than {@code except} that overlaps {@code [base, base + npages)}. */
    MemslotImpl overlapping(long base, long npages, MemslotImpl except) {
        for (MemslotImpl s : slots) {
            if (s != except && base < s.endGfn() && s.baseGfn() < base + npages) {
                return s;
            }
        }
        return null;
    }

    Memslots with(MemslotImpl added, MemslotImpl removed) {
        MemslotImpl[] next = Arrays.stream(slots).filter(s -> s != removed).toArray(MemslotImpl[]::new);
        if (added != null) {
            next = Arrays.copyOf(next, next.length + 1);
            next[next.length - 1] = added;
        }
        Arrays.sort(next, (a, b) -> Long.compare(a.baseGfn(), b.baseGfn()));
        return new Memslots(next);
    }

    List<MemslotImpl> list() {
        return List.of(slots);
    }

    long residentPages() {
        long n = 0;
        for (MemslotImpl s : slots) {
            n += s.residentPages();
        }
        return n;
    }
}
