package org.shadowbox.mmu.internal.osgi;

import java.util.concurrent.TimeUnit;

import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.internal.paging.Pfec;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.shadow.GuestVcpu;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VmException;

/**
 * What the shadow and the TDP {@link GuestCpu} adapters share: the owner whose liveness every
 * call checks, the MMU's vCPU every access goes to, and the one reused {@link AccessResult}
 * the outcome of the last access lives in, so an access allocates nothing and its only extra
 * work is one volatile read (is the MMU still there). What differs, a register write (an
 * exit under shadow paging, none under TDP), stays in the subclasses.
 *
 * <p>An MMU whose checker must see the vCPUs between accesses (TDP: the guest writes its own
 * tables and fills its TLB with no exit) gives each vCPU a {@link #mutex}, KVM's
 * {@code vcpu->mutex}: held by the vCPU's thread for each access and each instruction that
 * may change its TLB or the guest's memory, taken by the checker for every vCPU at once ({@code
 * kvm_lock_all_vcpus}). An access that hits the TLB goes without it: a read or a fetch
 * changes neither, and a store is done in guest mode, which the checker waits out after taking
 * the mutex ({@link GuestVcpu#holdStoreHits}), as a remote flush does. Uncontended the mutex
 * costs one CAS in and one release store out ({@link VcpuMutex}, its lock word on a cache line
 * of its own); a checker that wants it keeps the vCPU from taking it again, so it gets it at the
 * vCPU's next safe point.
 *
 * <p>Every access tries the TLB-hit case first, alone, in the final subclass: about 50 bytes
 * of bytecode, every call in it bound statically (the vCPU's {@code loadHit} or {@code
 * storeHit}), that the JIT inlines into its caller; everything else is in {@link #miss} and the
 * general path it calls, which the JIT never inlines.
 *
 * @param <V> the MMU's vCPU
 */
abstract class ResultCpu<V extends GuestVcpu> implements GuestCpu {
    final VmMmu<?> owner;
    final V v;
    final AccessResult last = new AccessResult();
    /** {@code vcpu->mutex}, or null when the MMU's checker needs no safe point of the vCPU (shadow). */
    private final VcpuMutex mutex;

    /**
     * Why this VM's MMU is gone, or null: {@link VmMmu#kill} sets it here too, so an access that
     * misses the TLB checks a field of the object it is called on (one volatile read) instead of
     * following {@link #owner}; a TLB hit needs no check (the kill posts {@code VM_DEAD}).
     */
    private volatile String gone;

    /** @param safePoints true to give the vCPU a {@link #mutex} that {@link #lockSafePoint} takes */
    ResultCpu(VmMmu<?> owner, V v, boolean safePoints) {
        this.owner = owner;
        this.v = v;
        this.mutex = safePoints ? new VcpuMutex() : null;
    }

    /** {@link VmMmu#checkLive} for an access: fails, in one line, once the MMU of this VM is gone. */
    private void checkLive() {
        String g = gone;
        if (g != null) {
            throw new VmException(g);
        }
    }

    /**
     * {@link VmMmu#kill}'s part in this adapter: the reason, then {@code kvm_vm_dead}'s request
     * to the vCPU ({@link GuestVcpu#requestVmDead}), which turns every TLB hit into a miss, where
     * {@link #checkLive} fails.
     */
    final void kill(String why) {
        gone = why;
        v.requestVmDead();
    }

    /** Enters an access or instruction: takes {@link #mutex} if there is one. */
    final void enter() {
        if (mutex != null) {
            mutex.lock();
        }
    }

    /** Leaves it. */
    final void exit() {
        if (mutex != null) {
            mutex.unlock();
        }
    }

    /**
     * The checker's side ({@code kvm_lock_all_vcpus}, one vCPU): waits until the vCPU is between
     * two accesses and keeps it there until {@link #unlockSafePoint}. A vCPU that does not get
     * there within {@code timeoutMs} (a notifier that hangs inside its access) fails in one line.
     */
    final void lockSafePoint(long timeoutMs) {
        try {
            if (!mutex.tryLock(timeoutMs, TimeUnit.MILLISECONDS)) {
                throw new VmException("vCPU " + v.vcpu().id() + " of VM " + owner.vm.name()
                        + " did not reach a point between two accesses within " + timeoutMs / 1000
                        + " s (its access is stuck, e.g. in a notifier), so the check did not run; it is held by "
                        + v.vcpu().claimedBy());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("interrupted while waiting for vCPU " + v.vcpu().id() + " of VM "
                    + owner.vm.name() + " to reach a point between two accesses; the check did not run");
        }
        v.holdStoreHits(); // store hits take no mutex: wait out one in flight, keep others out
    }

    /** Lets the vCPU run again after {@link #lockSafePoint}. */
    final void unlockSafePoint() {
        try {
            v.releaseStoreHits();
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public final Vcpu vcpu() {
        return v.vcpu();
    }

    /*
     * GuestCpu's read, write and fetch are the final subclasses' (ShadowGuestCpu, TdpGuestCpu):
     * each is the TLB-hit case on the vCPU's final class, else miss below, which holds everything
     * rare (the liveness failure, the mutex) and calls the general path, one method the JIT never
     * inlines (over FreqInlineSize): the code compiled for a subclass's read stays small enough
     * for its own caller to inline it, whichever of them the JIT compiles first (docs/mmu.md,
     * "What a TLB hit costs").
     */

    /**
     * An access whose TLB-hit case failed (or the MMU is gone): the general path ({@link
     * GuestVcpu#miss}: walk, faults, exits), under the vCPU's mutex if it has one; true if it
     * completed. Fails in one line if the MMU is gone. One method for reads, writes and fetches,
     * and its two cases apart (the JIT compiles only the one its profile saw: no lock and no
     * handler for the shadow adapter), so that where a caller inlines it, it adds a test and
     * one call.
     */
    final boolean miss(long gva, long value, int size, int acc) {
        checkLive();
        if (mutex == null) {
            return v.miss(gva, value, size, acc, last).ok();
        }
        mutex.lock();
        try {
            return v.miss(gva, value, size, acc, last).ok();
        } finally {
            mutex.unlock();
        }
    }

    /**
     * {@code rep stos}: the runs of elements that hit the TLB in guest mode ({@link GuestVcpu#storeHits}),
     * each element between them by the general path ({@link #miss}), exactly the accesses {@link
     * #write} would make one by one, with one guest-mode entry per run instead of one per element.
     */
    @Override
    public final int writeString(long gva, long value, int size, int count, boolean user) {
        GuestCpu.checkString(size, count);
        int acc = Pfec.WRITE | (user ? Pfec.USER : 0);
        int n = 0;
        while (n < count) {
            n += v.storeHits(gva + (long) n * size, value, size, count - n, acc, last);
            if (n == count) {
                break;
            }
            if (!miss(gva + (long) n * size, value, size, acc)) {
                return n;
            }
            n++;
        }
        return count;
    }

    /** {@code rep movs}: as {@link #writeString}, each element a load then a store ({@link GuestVcpu#copyHits}). */
    @Override
    public final int copyString(long dst, long src, int size, int count, boolean user) {
        GuestCpu.checkString(size, count);
        int acc = user ? Pfec.USER : 0;
        int end = 2 * count;
        int k = 0;
        while (k < end) {
            k = v.copyHits(dst, src, size, k, count, acc, last);
            if (k == end) {
                break;
            }
            long off = (long) (k >>> 1) * size;
            boolean ok = (k & 1) == 0
                    ? miss(src + off, 0, size, acc)
                    : miss(dst + off, last.value, size, acc | Pfec.WRITE);
            if (!ok) {
                return k >>> 1;
            }
            k++;
        }
        return count;
    }

    /** Aggregated TLB hits: the meter counts them as accesses of that mode; no walk, no exit. */
    @Override
    public final void retire(long accesses, boolean user) {
        if (accesses < 0) {
            throw new IllegalArgumentException("accesses " + accesses + " < 0");
        }
        owner.checkLive();
        v.retire(accesses, user);
    }

    /** {@code invlpg}: an exit under shadow paging ({@code kvm_mmu_invlpg}), none under EPT; the vCPU says which. */
    @Override
    public final void invlpg(long gva) {
        owner.checkLive();
        enter();
        try {
            v.invlpg(gva);
        } finally {
            exit();
        }
    }

    @Override
    public final long value() {
        return last.value;
    }

    /** {@link GuestCpu}'s exception numbers are the vector numbers the walker uses (0, 13, 14). */
    @Override
    public final int exception() {
        return last.exception;
    }

    @Override
    public final int errorCode() {
        return last.errorCode;
    }

    @Override
    public final long gpa() {
        return last.gpa;
    }

    @Override
    public final boolean emulated() {
        return last.emulated;
    }
}
