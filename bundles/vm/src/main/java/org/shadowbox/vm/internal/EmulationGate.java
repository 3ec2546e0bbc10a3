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
 * emulator's part of KVM's {@code vcpu->mutex}, which every vCPU ioctl takes, so a vCPU's
 * emulator never runs on two threads at once); the MMU checker ({@link #between}) closes the
 * gate and waits until no vCPU is inside one.
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
 * lock before let them.
 */
final class EmulationGate {
    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(VcpuImpl.class, "emulating", Thread.class);
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

    /**
     * Enters {@code v}'s section. Returns true if this call took it (the caller must
     * {@link #exit} it), false if the calling thread already holds it (a nested write).
     */
    boolean enter(VcpuImpl v) {
        Thread me = Thread.currentThread();
        if (v.emulating == me) {
            return false;
        }
        int spins = 0;
        long park = 1_000;
        while (true) {
            if (OWNER.compareAndSet(v, null, me)) { // a full fence: the read of closed below comes after it
                if (!closed || holdsAnother(me, v)) {
                    return true;
                }
                OWNER.setRelease(v, null); // the checker is looking: out again, nothing stored
                awaitOpen();
                continue;
            }
            // Another thread drives this vCPU's emulator (the API forbids two at once): wait for it, as vcpu->mutex would.
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, park);
                park = Math.min(park * 2, MAX_PARK_NANOS);
            }
        }
    }

    /** Leaves {@code v}'s section if {@code took} (the value {@link #enter} returned). */
    static void exit(VcpuImpl v, boolean took) {
        if (took) {
            OWNER.setRelease(v, null); // everything the write did (store, notifiers) before it
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
        while (v.emulating != null) {
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
