package org.shadowbox.pagetrack.internal;

import org.shadowbox.vm.spi.Platform;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.shadowbox.pagetrack.Owner;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.TrackedPage;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Vm;

/**
 * Page track's state for one VM: the attached notifiers (KVM's
 * {@code kvm->arch.track_notifier_head}) with their SRCU, and the owner bookkeeping.
 *
 * <p>Notifiers: a copy-on-write array, newest first, written under the core's registry
 * lock and read by dispatch inside {@link #srcu}. Owners: for each owner, for each memslot
 * object, for each mode, the gfns it holds; guarded by {@code kvm->mmu_lock}. Keying by the
 * memslot object (not its id or range) makes a delete or move drop exactly the tracks that
 * lived in the old slot's counters, whatever runs concurrently.
 */
final class VmState {
    private static final NotifierEntry[] NONE = new NotifierEntry[0];

    final Vm vm;
    final Srcu srcu;
    /** One per vCPU, then one for slot changes: where the watchdog sees calls into notifiers. */
    final CallSlot[] slots;
    /** Newest first. Read it only after {@link Srcu#readLock}. */
    volatile NotifierEntry[] notifiers = NONE;

    /** Per owner, per slot object, per mode ordinal. Guarded by the MMU lock. */
    private final Map<OwnerTrack, Map<Memslot, GfnCounts[]>> owners = new LinkedHashMap<>();

    VmState(Vm vm) {
        this.vm = vm;
        this.srcu = new Srcu("page-track notifiers of VM " + vm.name());
        int n = vm.vcpuCount();
        this.slots = new CallSlot[n + 1];
        for (int i = 0; i < n; i++) {
            slots[i] = new CallSlot("vCPU " + i, srcu);
        }
        slots[n] = new CallSlot("a memslot change", srcu);
    }

    /** The slot of vCPU {@code id}; the slot-change slot for an id the VM does not have. */
    CallSlot slot(int id) {
        return id >= 0 && id < slots.length - 1 ? slots[id] : slots[slots.length - 1];
    }

    /** The slot of memslot changes. */
    CallSlot changeSlot() {
        return slots[slots.length - 1];
    }

    /** The owner's counts in {@code slot} for {@code mode}; {@code null} if none and not {@code create}. */
    GfnCounts counts(OwnerTrack owner, Memslot slot, TrackMode mode, boolean create) {
        Map<Memslot, GfnCounts[]> bySlot = owners.get(owner);
        if (bySlot == null) {
            if (!create) {
                return null;
            }
            bySlot = new IdentityHashMap<>();
            owners.put(owner, bySlot);
        }
        GfnCounts[] byMode = bySlot.get(slot);
        if (byMode == null) {
            if (!create) {
                return null;
            }
            byMode = new GfnCounts[TrackMode.values().length];
            bySlot.put(slot, byMode);
        }
        GfnCounts c = byMode[mode.ordinal()];
        if (c == null && create) {
            c = new GfnCounts();
            byMode[mode.ordinal()] = c;
        }
        return c;
    }

    /** Drops the owner's entries and returns them (per slot, per mode), or null. */
    Map<Memslot, GfnCounts[]> removeOwner(OwnerTrack owner) {
        return owners.remove(owner);
    }

    /** Gfns the owner holds in {@code slot}, over all modes. */
    private static int pages(GfnCounts[] byMode) {
        int n = 0;
        for (GfnCounts c : byMode) {
            n += c == null ? 0 : c.size();
        }
        return n;
    }

    /** "owner a: 3 pages, owner b: 1 page" for the external owners holding pages in {@code slot}; "" if none. */
    String externalHolders(Memslot slot) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<OwnerTrack, Map<Memslot, GfnCounts[]>> e : owners.entrySet()) {
            if (e.getKey().role() != TrackerRole.EXTERNAL) {
                continue;
            }
            GfnCounts[] byMode = e.getValue().get(slot);
            int n = byMode == null ? 0 : pages(byMode);
            if (n > 0) {
                sb.append(sb.length() == 0 ? "" : ", ").append("owner ").append(e.getKey().owner()).append(": ")
                        .append(n).append(n == 1 ? " page" : " pages");
            }
        }
        return sb.toString();
    }

    /**
     * Forgets every owner's tracks in {@code slot} (its counters died with it). Returns the
     * same description as {@link #externalHolders} for what external owners lost.
     */
    String dropSlot(Memslot slot) {
        String lostExternal = externalHolders(slot);
        owners.values().removeIf(bySlot -> {
            bySlot.remove(slot);
            return bySlot.isEmpty();
        });
        return lostExternal;
    }

    /** Every tracked gfn with its slot count and per-owner counts, sorted by gfn then mode. */
    List<TrackedPage> tracked() {
        record Key(long gfn, TrackMode mode) implements Comparable<Key> {
            @Override
            public int compareTo(Key o) {
                int c = Long.compare(gfn, o.gfn);
                return c != 0 ? c : mode.compareTo(o.mode);
            }
        }
        TreeMap<Key, Map<String, Integer>> byGfn = new TreeMap<>();
        TreeMap<Key, List<TrackedPage.Holder>> holders = new TreeMap<>();
        TreeMap<Key, Memslot> slots = new TreeMap<>();
        for (Map.Entry<OwnerTrack, Map<Memslot, GfnCounts[]>> e : owners.entrySet()) {
            String owner = e.getKey().owner();
            Owner who = e.getKey().ownerBundle();
            for (Map.Entry<Memslot, GfnCounts[]> s : e.getValue().entrySet()) {
                for (TrackMode mode : TrackMode.values()) {
                    GfnCounts c = s.getValue()[mode.ordinal()];
                    if (c == null) {
                        continue;
                    }
                    for (long gfn : c.sortedGfns()) {
                        Key k = new Key(gfn, mode);
                        byGfn.computeIfAbsent(k, x -> new TreeMap<>()).merge(owner, c.get(gfn), Integer::sum);
                        // one entry per owner (a slot object per owner holds the gfn at most once)
                        holders.computeIfAbsent(k, x -> new ArrayList<>()).add(new TrackedPage.Holder(who, c.get(gfn)));
                        slots.put(k, s.getKey());
                    }
                }
            }
        }
        List<TrackedPage> out = new ArrayList<>(byGfn.size());
        for (Map.Entry<Key, Map<String, Integer>> e : byGfn.entrySet()) {
            Key k = e.getKey();
            int count = Platform.slot(slots.get(k)).gfnTrack(k.mode.ordinal()).count(k.gfn);
            out.add(new TrackedPage(k.gfn, k.mode, count, e.getValue(), holders.get(k)));
        }
        return out;
    }
}
