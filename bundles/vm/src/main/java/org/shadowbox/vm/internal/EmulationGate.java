package org.shadowbox.vm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.shadowbox.vm.VmException;

/**
 * Where a VM's emulated writes may be seen: each vCPU's emulated write, from its store to the
 * end of its notifiers, runs in that vCPU's <em>section</em>, held by one thread at a time (the
 * emulator's part of KVM's {@code vcpu->mutex}, which every vCPU ioctl takes); a thread that
 * finds it held enters as a counted guest ({@link #enter}). The MMU checker ({@link #between})
 * closes the gate and waits until no vCPU has a holder or a guest inside.
 *
 * <p>Cost on the write path: one compare-and-set to enter (which is also the full fence the
 * gate needs) and a release store to leave; nothing is shared between vCPUs (the section word
 * is the vCPU's own). It replaced one read-write lock shared by every vCPU of the VM, whose
 * read side took two compare-and-sets on one shared word per write.
 *
 * <p>Why the checker never looks while a write is between its store and its notifiers. The
 * entering vCPU's compare-and-set on its own section word and its following read of
 * {@link #closed}, and the checker's volatile store of {@code closed} and its following reads of
 * the section words, are all synchronization actions, totally ordered consistently with each
 * thread's program order (a Dekker handshake). So either the vCPU's read sees {@code closed}
 * (it leaves the section again without storing and waits until the gate opens), or the
 * checker's read of that vCPU's word comes after the compare-and-set and sees the section held
 * (it waits until its release). A section is re-entered without a compare-and-set by the
 * thread holding it (a notifier that writes through the same vCPU), and a thread that holds
 * another vCPU's section of this VM goes in even while the gate is closed (a notifier that
 * writes through another vCPU; the checker is waiting for it anyway), as the reentrant read
 * lock before let them. A thread that finds the section held by another enters as a guest
 * (see {@link #enter}): counted on the vCPU by an atomic increment, which is the fence of the
 * same handshake, and waited for by the checker like the holder.
 */
final class EmulationGate {
    private static final VarHandle OWNER;
    private static final VarHandle GUESTS;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(VcpuImpl.class, "emulating", Thread.class);
            GUESTS = MethodHandles.lookup().findVarHandle(VcpuImpl.class, "guests", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** How long {@link #between} waits for the writes in flight. */
    static final long DRAIN_SECONDS = 5;
    private static final int SPINS = 128;
    private static final long MAX_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final VmImpl vm;
    private final VcpuImpl[] vcpus;
    /** Set while a checker runs or waits for the writes in flight; new sections wait. */
    private volatile boolean closed;
    /** One checker at a time. */
    private final ReentrantLock checkers = new ReentrantLock();

    EmulationGate(VmImpl vm, VcpuImpl[] vcpus) {
        this.vm = vm;
        this.vcpus = vcpus;
    }

    /** {@link #enter}: this call took {@code v}'s section; {@link #exit} releases it. */
    static final int TOOK = 1;
    /** {@link #enter}: the calling thread already holds the section (a nested write); nothing to release. */
    static final int NESTED = 0;
    /** {@link #enter}: entered as a guest of the section held by another thread; {@link #exit} counts it out. */
    static final int GUEST = 2;

    /**
     * Enters {@code v}'s section: takes it ({@link #TOOK}), or finds it held by the calling
     * thread ({@link #NESTED}), or enters as a {@link #GUEST} when another thread holds it. A
     * guest is a thread acting for the holder (an isolated notifier's courier writing through
     * the vCPU the holder waits on), or a second driver of the vCPU, which the API forbids; it
     * is counted in {@link VcpuImpl#guests} by atomic increments, so the checker waits for it
     * too, and its writes are counted atomically ({@link VcpuImpl#countEmulatedWrite}). While
     * the gate is closed a guest waits like a new holder: a courier writing for a holder that a
     * checker waits on then holds that checker until its 5 s give up, as the read-write lock
     * this replaced did (its new readers waited behind a queued writer).
     */
    int enter(VcpuImpl v) {
        Thread me = Thread.currentThread();
        if (v.emulating == me) {
            return NESTED;
        }
        while (true) {
            if (OWNER.compareAndSet(v, null, me)) { // a full fence: the read of closed below comes after it
                if (!closed || holdsAnother(me, v)) {
                    return TOOK;
                }
                OWNER.setRelease(v, null); // the checker is looking: out again, nothing stored
                awaitOpen();
                continue;
            }
            GUESTS.getAndAdd(v, 1); // a full fence too
            if (!closed || holdsAnother(me, v)) {
                return GUEST;
            }
            GUESTS.getAndAdd(v, -1);
            awaitOpen();
        }
    }

    /** Leaves {@code v}'s section as {@link #enter} entered it ({@code how}). */
    static void exit(VcpuImpl v, int how) {
        if (how == TOOK) {
            OWNER.setRelease(v, null); // everything the write did (store, notifiers) before it
        } else if (how == GUEST) {
            GUESTS.getAndAdd(v, -1);
        }
    }

    /** True if {@code me} holds the section of a vCPU of this VM other than {@code v}. */
    private boolean holdsAnother(Thread me, VcpuImpl v) {
        for (VcpuImpl o : vcpus) {
            if (o != v && o.emulating == me) {
                return true;
            }
        }
        return false;
    }

    private void awaitOpen() {
        int spins = 0;
        long park = 1_000;
        while (closed) {
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, park); // checks are rare: the writer polls rather than cost every write a wake-up
                park = Math.min(park * 2, MAX_PARK_NANOS);
            }
        }
    }

    /** {@link org.shadowbox.vm.spi.PlatformVm#betweenEmulatedWrites}: closes the gate, waits for every section to be left, runs {@code body}. */
    <T> T between(Supplier<T> body) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
        try {
            if (!checkers.tryLock(DRAIN_SECONDS, TimeUnit.SECONDS)) {
                throw stuck();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("interrupted while waiting for the emulated writes of VM " + vm.name() + " to finish");
        }
        try {
            closed = true; // volatile store, then the reads of the section words: see the class comment
            try {
                for (VcpuImpl v : vcpus) {
                    awaitLeft(v, deadline);
                }
                return body.get();
            } finally {
                closed = false;
            }
        } finally {
            checkers.unlock();
        }
    }

    private void awaitLeft(VcpuImpl v, long deadline) {
        int spins = 0;
        long park = 1_000;
        // volatile reads of both words after the store of closed: see the class comment
        while (v.emulating != null || v.guests != 0) {
            if (System.nanoTime() - deadline > 0) {
                throw stuck();
            }
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new VmException("interrupted while waiting for the emulated writes of VM " + vm.name() + " to finish");
            }
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, park);
                park = Math.min(park * 2, MAX_PARK_NANOS);
            }
        }
    }

    private VmException stuck() {
        return new VmException("VM " + vm.name() + ": an emulated write has not reached its notifiers for "
                + DRAIN_SECONDS + " s (a page-track notifier that hangs? plugin:list shows them); try again");
    }
}
