package org.shadowbox.pagetrack.internal;

import org.shadowbox.vm.spi.Platform;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

import org.shadowbox.pagetrack.NotifierInfo;
import org.shadowbox.pagetrack.Owner;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.pagetrack.spi.WriteProtectHook;
import org.shadowbox.pagetrack.guard.GuardRecord;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.spi.SlotChange;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.spi.VmListener;

/**
 * Page track without OSGi (KVM's {@code page_track.c} plus the memslot hooks of
 * {@code kvm_page_track_{create,free}_memslot} and {@code kvm_arch_{prepare,commit}_memory_region}).
 * One instance serves one hypervisor. Plain-Java users (unit tests, other bundles' tests):
 * register it with the hypervisor as its {@link VmListener} and {@link EmulatedWriteListener},
 * get owner-attributed {@link OwnerTrack}s from {@link #forOwner}, attach notifiers with
 * {@link #register}. Under OSGi, {@link PageTrackPlatform} is this class as a component.
 *
 * <p>Per-VM state lives in an array indexed by {@link Vm#id()}, replaced copy-on-write,
 * so that notifier dispatch finds it without a lock, a boxed key or an allocation.
 */
public class PageTrackCore implements VmListener, EmulatedWriteListener {
    private static final System.Logger LOG = System.getLogger("org.shadowbox.pagetrack");

    private final NotifierGuard guard = new NotifierGuard();
    private final SlotPageTrack slotPageTrack = new SlotPageTrack(guard);
    /** Serializes changes of {@link #states}, {@link #registered} and the notifier arrays. */
    private final Object registry = new Object();
    private final List<NotifierEntry> registered = new ArrayList<>();
    private final AtomicLong plainOrder = new AtomicLong();
    private volatile VmState[] states = new VmState[0];
    /** Runs while notifiers are registered (guarded by {@link #registry}); null otherwise. */
    private Watchdog watchdog;
    private Thread watchdogThread;
    private boolean closed;
    /** {@code guard.isolate}; changed under {@link #registry}. */
    private volatile IsolationPolicy isolation = IsolationPolicy.NONE;

    /** An external owner's view of page track, for an owner outside OSGi (bundle id -1). */
    public OwnerTrack forOwner(String owner) {
        return forOwner(owner, TrackerRole.EXTERNAL);
    }

    /** An owner's view of page track outside OSGi (bundle id -1); {@link TrackerRole#MMU} for the MMU. */
    public OwnerTrack forOwner(String owner, TrackerRole role) {
        if (owner == null || owner.isBlank()) {
            throw new VmException("no owner given: an owner is a bundle symbolic name");
        }
        return forOwner(new Owner(-1, "", owner), role);
    }

    /**
     * A bundle's view of page track. Each call makes a new owner: its tracks are its own even if
     * another owner has the same symbolic name (or the same id and location).
     */
    public OwnerTrack forOwner(Owner owner, TrackerRole role) {
        return new OwnerTrack(this, owner, role);
    }

    /** {@code guard.maxFailures}: failures after which a notifier is disabled. */
    public void setMaxFailures(int n) {
        guard.setMaxFailures(n);
    }

    /** {@code guard.timeoutMillis}: a notifier call running this long disables the notifier; 0 never. */
    public void setTimeoutMillis(long ms) {
        guard.setTimeoutMillis(ms);
    }

    /**
     * {@code guard.isolate}: the bundles (symbolic names, {@code *} for every bundle but the
     * sandbox's own) whose notifiers are called on a {@link Courier} thread, for registered and
     * future notifiers alike. Bad input throws a one-line {@link VmException} and changes nothing.
     */
    public void setIsolate(Collection<String> bundles) {
        IsolationPolicy p = IsolationPolicy.parse(bundles);
        synchronized (registry) {
            isolation = p;
            for (NotifierEntry e : registered) {
                e.isolated = p.isolates(e.bundle);
            }
        }
    }

    /** {@code guard.isolate} as in force: symbolic names and {@code *}. */
    public List<String> isolate() {
        return isolation.names;
    }

    /**
     * Stops the watchdog for good (the component is going away) and ends idle couriers. Notifiers
     * still attached are not timed any more.
     */
    public void close() {
        Thread t;
        synchronized (registry) {
            closed = true;
            watchdog = null;
            t = watchdogThread;
            watchdogThread = null;
        }
        if (t != null) {
            t.interrupt();
        }
        for (VmState st : states()) {
            for (CallSlot slot : st.slots) {
                slot.retireCourier();
            }
        }
    }

    /** The watchdog asks before each tick; it ends when no notifier is registered (or after {@link #close}). */
    boolean watchdogContinues(Watchdog w) {
        synchronized (registry) {
            if (watchdog != w) {
                return false;
            }
            if (registered.isEmpty()) {
                watchdog = null;
                watchdogThread = null;
                return false;
            }
            return true;
        }
    }

    /** Whether the watchdog thread runs now (tests). */
    boolean watchdogRunning() {
        synchronized (registry) {
            return watchdogThread != null && watchdogThread.isAlive();
        }
    }

    /** Starts the watchdog if none runs. Caller holds {@link #registry}. */
    private void ensureWatchdog() {
        if (watchdog == null && !closed) {
            watchdog = new Watchdog(this, guard);
            watchdogThread = watchdog.start();
        }
    }

    /** The guard's record of every registered notifier, newest first. */
    public List<GuardRecord> guardRecords() {
        List<NotifierEntry> entries;
        synchronized (registry) {
            entries = new ArrayList<>(registered);
        }
        entries.sort((a, b) -> Long.compare(b.order, a.order));
        VmState[] all = states;
        long now = guard.tick;
        List<GuardRecord> out = new ArrayList<>();
        for (NotifierEntry e : entries) {
            List<String> vms = new ArrayList<>();
            int running = 0;
            int abandoned = e.abandonedCouriers.get();
            long longest = 0;
            for (VmState st : all) {
                if (st == null) {
                    continue;
                }
                if (Arrays.asList(st.notifiers).contains(e)) {
                    vms.add(st.vm.name());
                }
                for (CallSlot slot : st.slots) {
                    if (slot.current == e) {
                        running++;
                        if (slot.abandoned) {
                            abandoned++;
                        }
                        longest = Math.max(longest, (now - slot.since) * Watchdog.TICK_MILLIS);
                    }
                }
            }
            long calls = callsOf(e, all);
            out.add(new GuardRecord(e.bundle, e.serviceId, e.name, vms, calls, e.failures.get(),
                    e.timeouts.get(), e.slowCalls.sum(), e.slowTicks.sum() * Watchdog.TICK_MILLIS, e.sampledCalls.sum(),
                    e.sampledNanos.sum(), e.estimatedNanos(calls), running, longest, e.disabled, e.disabledReason,
                    e.lastError, e.isolated, abandoned, e.bundleId));
        }
        return out;
    }

    /** {@code guard.timeoutMillis}. */
    public long timeoutMillis() {
        return guard.timeoutMillis();
    }

    /** {@code guard.maxFailures}. */
    public int maxFailures() {
        return guard.maxFailures();
    }

    /** Installs the MMU's hook ({@code null} removes it); {@code bundle} is blamed for its failures. */
    public void setWriteProtectHook(WriteProtectHook hook, String bundle) {
        setHook(hook == null ? null : new HookEntry(hook, bundle, -1));
    }

    void setHook(HookEntry h) {
        slotPageTrack.setHook(h);
    }

    SlotPageTrack slotPageTrack() {
        return slotPageTrack;
    }

    NotifierGuard guard() {
        return guard;
    }

    // ---- notifiers: kvm_page_track_register_notifier / unregister_notifier ----

    /**
     * Attaches {@code n}, blamed on {@code bundle}, to the VMs named (all VMs, present and
     * future, if none). It is called before every notifier registered earlier.
     */
    public void register(PageTrackNotifier n, String bundle, String... vmNames) {
        attach(new NotifierEntry(n, bundle, -1, plainOrder.incrementAndGet(),
                vmNames.length == 0 ? null : Set.of(vmNames)));
    }

    /**
     * Detaches {@code n} (registered with {@link #register}) from every VM and returns when no
     * call into it is running, except a call the watchdog abandoned after a timeout (logged);
     * it is never called afterwards. Not from inside its own callback.
     */
    public void unregister(PageTrackNotifier n) {
        detach(e -> e.serviceId < 0 && e.notifier == n);
    }

    /** OSGi: attach a notifier service; {@code vmNames} null = every VM. Newer service ids come first. */
    void bindService(PageTrackNotifier n, String bundle, long serviceId, Collection<String> vmNames) {
        bindService(n, bundle, -1, serviceId, vmNames);
    }

    /** OSGi: attach a notifier service of bundle {@code bundleId} ({@code bundle} is its symbolic name). */
    void bindService(PageTrackNotifier n, String bundle, long bundleId, long serviceId, Collection<String> vmNames) {
        NotifierEntry e = new NotifierEntry(n, bundle, serviceId, serviceId, vmNames == null ? null : Set.copyOf(vmNames));
        e.bundleId = bundleId;
        attach(e);
    }

    /** OSGi: detach a notifier service, waiting for its running calls. */
    void unbindService(long serviceId) {
        detach(e -> e.serviceId == serviceId);
    }

    private void attach(NotifierEntry e) {
        synchronized (registry) {
            for (NotifierEntry r : registered) {
                if (r.notifier == e.notifier && r.serviceId == e.serviceId) {
                    throw new VmException("notifier " + e.name + " of bundle " + e.bundle + " is already registered");
                }
            }
            e.isolated = isolation.isolates(e.bundle);
            registered.add(e);
            ensureWatchdog();
            for (VmState st : states) {
                if (st != null && e.selects(st.vm)) {
                    st.notifiers = inserted(st.notifiers, e);
                }
            }
        }
    }

    private void detach(Predicate<NotifierEntry> which) {
        List<VmState> touched = new ArrayList<>();
        NotifierEntry gone = null;
        synchronized (registry) {
            for (NotifierEntry r : registered) {
                if (which.test(r)) {
                    gone = r;
                    break;
                }
            }
            if (gone == null) {
                return;
            }
            registered.remove(gone);
            for (VmState st : states) {
                if (st != null && Arrays.asList(st.notifiers).contains(gone)) {
                    final NotifierEntry g = gone;
                    st.notifiers = Arrays.stream(st.notifiers).filter(x -> x != g).toArray(NotifierEntry[]::new);
                    touched.add(st);
                }
            }
        }
        // Outside the registry lock: a running callback may create VMs' state or attach.
        for (VmState st : touched) {
            st.srcu.synchronize();
            for (CallSlot slot : st.slots) {
                slot.dropCallsOf(gone); // its call counts go to the entries; the slot keeps no reference to it
            }
        }
        reportAbandoned(gone, touched);
    }

    /**
     * After the unregister's synchronize: calls into {@code gone} that the watchdog abandoned may
     * still run (a vCPU stuck in a direct call, or an abandoned courier): the one case where the
     * unregister guarantee does not hold. One line says so, blaming the bundle.
     */
    private static void reportAbandoned(NotifierEntry gone, List<VmState> touched) {
        List<String> where = new ArrayList<>();
        for (VmState st : touched) {
            for (CallSlot slot : st.slots) {
                if (slot.current == gone && slot.abandoned) {
                    where.add(slot.where + " of VM " + st.vm.name());
                }
            }
        }
        int couriers = gone.abandonedCouriers.get();
        if (couriers > 0) {
            where.add(couriers + " abandoned courier thread" + (couriers == 1 ? "" : "s"));
        }
        if (!where.isEmpty()) {
            LOG.log(Level.WARNING, "bundle " + gone.bundle + ": unregistered notifier " + gone.name + " without waiting"
                    + " for its call(s) abandoned after the timeout, still running (" + String.join(", ", where)
                    + "): the unregister guarantee does not hold for those calls");
        }
    }

    /** The array with {@code e} placed by descending registration order (newest first). */
    private static NotifierEntry[] inserted(NotifierEntry[] a, NotifierEntry e) {
        NotifierEntry[] out = new NotifierEntry[a.length + 1];
        int i = 0;
        while (i < a.length && a[i].order > e.order) {
            out[i] = a[i];
            i++;
        }
        out[i] = e;
        System.arraycopy(a, i, out, i + 1, a.length - i);
        return out;
    }

    /** The notifiers attached to {@code vm}, newest (first called) first. */
    public List<NotifierInfo> notifiers(Vm vm) {
        VmState st = state(vm);
        if (st == null) {
            return List.of();
        }
        List<NotifierInfo> out = new ArrayList<>();
        for (NotifierEntry e : st.notifiers) {
            out.add(e.info(callsOf(e, states)));
        }
        return out;
    }

    // ---- dispatch: kvm_page_track_write ----

    /**
     * {@code kvm_page_track_write}: every attached notifier's {@code track_write}, newest
     * first, through the guard, inside an SRCU read section ({@link NotifierGuard#trackWriteAll},
     * never inlined: the write's call boundary). No lock, no allocation; nothing but the VM's
     * state lookup when no notifier is attached.
     */
    @Override
    public void emulatedWrite(Vcpu vcpu, long gpa, long value, int bytes) {
        Vm vm = vcpu.vm();
        VmState st = state(vm);
        if (st != null && st.notifiers.length != 0) {
            guard.trackWriteAll(st, vm, vcpu.id(), gpa, value, bytes);
        }
    }

    /** {@code kvm_page_track_is_active}. Lock-free, allocation-free; false outside every slot. */
    public boolean isActive(Vm vm, long gfn, TrackMode mode) {
        return isActive(vm.slotForGfn(gfn), gfn, mode);
    }

    /**
     * {@code kvm_page_track_is_active(vcpu, gfn, mode)}: the slot through the vCPU's own lookup
     * ({@code kvm_vcpu_gfn_to_memslot}); on the thread driving {@code vcpu}.
     */
    public boolean isActive(Vcpu vcpu, long gfn, TrackMode mode) {
        return isActive(Platform.vcpu(vcpu).gfnToMemslot(gfn), gfn, mode);
    }

    /** The count of {@code gfn} in {@code slot} (null: outside every slot, not tracked). */
    private static boolean isActive(Memslot slot, long gfn, TrackMode mode) {
        return slot != null && Platform.slot(slot).gfnTrack(mode.ordinal()).count(gfn) != 0;
    }

    // ---- per-VM state ----

    /** The VM's state, or null. Lock-free, allocation-free. */
    VmState state(Vm vm) {
        VmState[] a = states;
        int id = vm.id();
        if (id < 0 || id >= a.length) {
            return null;
        }
        VmState st = a[id];
        return st != null && st.vm == vm ? st : null;
    }

    /** The VM's state, created (with its notifiers attached) if page track has not met the VM yet. */
    VmState stateForUpdate(Vm vm) {
        VmState st = state(vm);
        if (st != null) {
            return st;
        }
        synchronized (registry) {
            st = state(vm);
            if (st != null) {
                return st;
            }
            if (vm.destroyed()) {
                throw new VmException("VM " + vm.name() + " is destroyed: no page can be tracked in it");
            }
            int id = vm.id();
            VmState[] a = states;
            if (id >= 0 && id < a.length && a[id] != null && !a[id].vm.destroyed()) {
                throw new VmException("VM " + vm.name() + " has id " + id + ", which page track already knows as VM "
                        + a[id].vm.name() + ": one page track serves one hypervisor");
            }
            st = new VmState(vm);
            for (int i = registered.size() - 1; i >= 0; i--) {
                NotifierEntry e = registered.get(i);
                if (e.selects(vm)) {
                    st.notifiers = inserted(st.notifiers, e);
                }
            }
            VmState[] b = Arrays.copyOf(a, id < a.length ? a.length : Math.max(id + 1, a.length * 2));
            b[id] = st;
            states = b;
            return st;
        }
    }

    /**
     * The calls into {@code e} so far: its own count plus what every vCPU's {@link CallSlot} has
     * counted and not yet added to it (a snapshot; exact when no notifier array changes meanwhile).
     */
    private static long callsOf(NotifierEntry e, VmState[] all) {
        long n = e.calls.get();
        for (VmState st : all) {
            if (st != null) {
                for (CallSlot slot : st.slots) {
                    n += slot.pendingCalls(e);
                }
            }
        }
        return n;
    }

    /** The VM states array itself (null holes), for the watchdog's scan. */
    VmState[] statesArray() {
        return states;
    }

    /** A snapshot of every VM's state. */
    List<VmState> states() {
        List<VmState> out = new ArrayList<>();
        for (VmState st : states) {
            if (st != null) {
                out.add(st);
            }
        }
        return out;
    }

    // ---- VmListener: memslot and VM lifecycle ----

    /** Sets up the VM's state and attaches the notifiers that select it. */
    @Override
    public void vmCreated(Vm vm) {
        stateForUpdate(vm);
    }

    /** Drops the VM's state; its slots, counters and owners' bookkeeping die with it. */
    @Override
    public void vmDestroyed(Vm vm) {
        synchronized (registry) {
            VmState st = state(vm);
            if (st != null) {
                VmState[] b = states.clone();
                b[vm.id()] = null;
                states = b;
                for (CallSlot slot : st.slots) {
                    slot.retireCourier(); // a late caller would make itself a new one
                    slot.flushCalls(); // its counts go to the entries, which outlive the VM
                }
            }
        }
    }

    /**
     * {@code kvm_arch_prepare_memory_region}'s page-track check: a MOVE gives the new slot
     * zeroed counters, so it is refused while an external tracker holds pages in the old
     * slot (KVM 6.6 refuses while any external tracker exists; Shadowbox only when one holds
     * pages there). The MMU's tracks do not block a move: the MMU re-shadows.
     */
    @Override
    public void prepareSlotChange(Vm vm, SlotChange change) {
        if (change.kind() != SlotChange.Kind.MOVE) {
            return;
        }
        VmState st = state(vm);
        if (st == null) {
            return;
        }
        Memslot old = change.oldSlot();
        String holders;
        ReentrantLock lock = Platform.mmuLock(vm);
        lock.lock();
        try {
            holders = st.externalHolders(old);
        } finally {
            lock.unlock();
        }
        if (!holders.isEmpty()) {
            throw new VmException("cannot move slot " + old.id() + " of VM " + vm.name()
                    + ": external trackers hold tracked pages in it (" + holders + "); remove them first");
        }
    }

    /**
     * A committed DELETE or MOVE: the old slot's counters are gone, so every owner's
     * bookkeeping of them goes too. A DELETE then delivers {@code track_remove_region} once
     * to every attached notifier (KVM 6.6), outside the MMU lock.
     */
    @Override
    public void commitSlotChange(Vm vm, SlotChange change) {
        if (change.kind() == SlotChange.Kind.CREATE) {
            return;
        }
        VmState st = state(vm);
        if (st == null) {
            return;
        }
        Memslot old = change.oldSlot();
        String lost;
        ReentrantLock lock = Platform.mmuLock(vm);
        lock.lock();
        try {
            lost = st.dropSlot(old);
        } finally {
            lock.unlock();
        }
        if (change.kind() == SlotChange.Kind.MOVE) {
            if (!lost.isEmpty()) {
                // Only an add racing the move between prepare and commit can get here.
                LOG.log(Level.WARNING, "slot " + old.id() + " of VM " + vm.name()
                        + " moved while external trackers added pages to it; dropped (" + lost + ")");
            }
            return;
        }
        trackRemoveRegion(st, old.baseGfn(), old.npages());
    }

    /** {@code kvm_page_track_delete_slot}: {@code track_remove_region} to every notifier, once. */
    private void trackRemoveRegion(VmState st, long gfn, long npages) {
        Srcu srcu = st.srcu;
        CallSlot slot = st.changeSlot();
        int idx = srcu.readLock(slot);
        try {
            NotifierEntry[] a = st.notifiers;
            for (int i = 0; i < a.length; i++) {
                if (guard.trackRemoveRegion(a[i], slot, idx, st.vm, gfn, npages)) {
                    long order = a[i].order; // abandoned: as in emulatedWrite
                    srcu.readUnlock(idx);
                    idx = srcu.readLock(slot);
                    a = st.notifiers;
                    i = NotifierGuard.after(a, order) - 1;
                }
            }
        } finally {
            srcu.readUnlock(idx);
        }
    }
}
