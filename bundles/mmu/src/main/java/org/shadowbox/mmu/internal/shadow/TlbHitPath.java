package org.shadowbox.mmu.internal.shadow;

import org.shadowbox.mmu.internal.paging.GuestWalk;
import org.shadowbox.mmu.internal.paging.Pfec;

/**
 * The processor's fast case of a guest access, the frame both MMUs share ({@link VcpuMmu} for
 * shadow paging, {@code TdpVcpu} for TDP, each implementing {@link Hit}): an access of 1, 2, 4
 * or 8 bytes within one page, with nothing for the vCPU's entry to do ({@link
 * Hit#entryUnchanged}: one load of the request word), whose page the TLB holds with the rights
 * it needs ({@link Hit#hit}). A store does all of it in guest mode ({@link
 * VcpuMode#enterGuestMode}), so that neither a remote flush nor a checker holding the vCPU
 * ({@link VcpuRequests#HELD}) can return while it is in flight.
 *
 * <p>Static methods, so that each MMU's hot path stays monomorphic: each caller passes itself,
 * a final class, and once the JIT inlines {@link #readHit} or {@link #storeHit} into it the two
 * calls on {@code h} are bound to that class statically; nothing here allocates. The read and
 * the store are separate methods so that each stays small enough to be inlined even after the
 * JIT has compiled it on its own ({@link #readHit}).
 *
 * <p>Why a store pays one full fence, here, per store, and not once per run of accesses as a
 * real vCPU pays {@code IN_GUEST_MODE}'s {@code smp_store_mb} once per VM entry: the flusher
 * posts its request and then loads the vCPU's mode; the vCPU publishes its mode and then loads
 * the requests (store then load on both sides, Dekker's pattern): without a store-load fence
 * on the vCPU's side both can miss each other, and a store through a translation the flush
 * removed lands after the flush returned. A real vCPU can stay in guest mode across many
 * instructions because the flusher's IPI interrupts it wherever it is: it never has to look.
 * The model's vCPU has no IPI; a flusher waits for it to leave guest mode, so it may only stay
 * there while it is sure to look at its requests again soon. Between two accesses the guest
 * model runs code of its own that may block (a guest spinlock or mutex held by the flusher's
 * thread, which holds the MMU lock while it waits): kept in guest mode there, the two would
 * wait for each other. So guest mode ends after every store (a release store, no fence), and
 * reads, most accesses, are never in it: a load that completes just after a flush is one that
 * happened before it. A cheaper correct form needs the guest model to leave guest mode before
 * anything that can block (as every KVM exit does); see docs/mmu.md, "What a TLB hit costs".
 */
public final class TlbHitPath {
    /** What differs between the MMUs; implemented by their final access classes. */
    public interface Hit {
        /** True when the vCPU's entry has nothing to do (its registers, roots and requests as at the last entry). */
        boolean entryUnchanged();

        /**
         * The TLB lookup and the permission check; on a hit, what the slow path would do for
         * the access (count it, load or store through the host page, fill {@code out}) and true;
         * otherwise nothing changed and false.
         */
        boolean hit(long gva, long value, int size, int acc, AccessResult out, int off);
    }

    private TlbHitPath() {
    }

    /**
     * What a hit does once its translation is found and allowed, the same under both MMUs: the
     * load or store of {@code size} bytes at {@code off} of the host page, and the result
     * (gpa, value, no exception). The caller has counted the access and the hit.
     */
    public static void perform(byte[] page, long gpa, long value, int size, int acc, int off, AccessResult out) {
        if ((acc & Pfec.WRITE) != 0) {
            store(page, gpa, value, size, off, out);
        } else {
            load(page, gpa, size, off, out);
        }
    }

    /**
     * {@link #perform} for a read or fetch: the load and the result. A method of its own so that
     * the code the JIT compiles for a load hit ({@code loadHit} of either vCPU) holds no store: a
     * branch on the access kind inside a method that loads and stores share is compiled both
     * ways wherever it is inlined (its profile has seen both).
     */
    public static void load(byte[] page, long gpa, int size, int off, AccessResult out) {
        out.exception = GuestWalk.OK;
        out.errorCode = 0;
        out.emulated = false;
        out.gpa = gpa;
        out.value = GuestBytes.load(page, off, size);
    }

    /** {@link #perform} for a store: the store and the result (the value stored, {@code size} bytes of it). */
    public static void store(byte[] page, long gpa, long value, int size, int off, AccessResult out) {
        out.exception = GuestWalk.OK;
        out.errorCode = 0;
        out.emulated = false;
        out.gpa = gpa;
        GuestBytes.store(page, off, value, size);
        out.value = size == 8 ? value : value & ((1L << (8 * size)) - 1);
    }

    /**
     * The fast case of an access ({@code acc} in {@link Pfec} bits), decided before anything
     * is changed: true if it was done; false if nothing changed and the general path must run.
     */
    public static boolean tlbHit(Hit h, VcpuRequests r, long gva, long value, int size, int acc, AccessResult out) {
        return (acc & Pfec.WRITE) == 0 ? readHit(h, gva, size, acc, out) : storeHit(h, r, gva, value, size, acc, out);
    }

    /**
     * {@link #tlbHit} for a read or fetch ({@code acc} without {@link Pfec#WRITE}): apart from the
     * store, so that the method the JIT compiles for it stays small. A method called from several
     * places (this one is: the fast path of every access, and the general path's first try) gets
     * compiled on its own, and the JIT does not inline a method whose own compiled code is big
     * ("already compiled into a big method"): with the store's guest mode in the same method, a
     * read hit was a call.
     */
    public static boolean readHit(Hit h, long gva, int size, int acc, AccessResult out) {
        int off = (int) gva & 4095;
        return fits(size, off) && h.entryUnchanged() && h.hit(gva, 0, size, acc, out, off);
    }

    /**
     * The first test of every hit: an access of 1, 2, 4 or 8 bytes ({@code size}) that ends
     * within the page it starts in at offset {@code off}; anything else (a bad size, a page
     * cross) takes the general path, which splits or refuses it.
     */
    public static boolean fits(int size, int off) {
        // One test, no branch: size within 0..15, one of the bits of 0x116 (1, 2, 4, 8), and
        // 4096 - off - size not negative (off is 0..4095, so nothing overflows once size is small).
        return ((size & ~15) | (~0x116 >>> size & 1) | (4096 - off - size) >>> 31) == 0;
    }

    /** {@link #tlbHit} for a store ({@code acc} with {@link Pfec#WRITE}). */
    public static boolean storeHit(Hit h, VcpuRequests r, long gva, long value, int size, int acc, AccessResult out) {
        int off = (int) gva & 4095;
        if (!fits(size, off)) {
            return false;
        }
        // In guest mode from before the request check (entryUnchanged) until it has landed, so
        // that neither a remote flush nor a checker holding the vCPU sees it half done (VcpuMode).
        if (!VcpuMode.enterGuestMode(r)) {
            return false;
        }
        try {
            return h.entryUnchanged() && h.hit(gva, value, size, acc, out, off);
        } finally {
            VcpuMode.exitGuestMode(r);
        }
    }

    /**
     * The TLB-hit elements of a string store ({@code rep stos}: {@code count} elements of {@code
     * size} bytes from {@code gva} upwards), each as {@link #storeHit} does it, from the first
     * until one that the general path must do. The vCPU enters guest mode once for the run, not
     * once per element, as a processor runs a string instruction without exiting; each element
     * still tests the request word first ({@link Hit#entryUnchanged}, a volatile load: it stands
     * for the IPI that makes the processor exit between two elements), so a remote flush or a
     * checker waits for one element at most, as for one store. Nothing in the run can block.
     *
     * @return the elements stored: {@code count}, or the index of the first not stored (nothing of it changed)
     */
    public static int storeHits(Hit h, VcpuRequests r, long gva, long value, int size, int count, int acc,
            AccessResult out) {
        int n = 0;
        VcpuMode.publishGuestMode(r);
        try {
            for (; n < count; n++) {
                long a = gva + (long) n * size;
                int off = (int) a & 4095;
                if (!fits(size, off) || !h.entryUnchanged() || !h.hit(a, value, size, acc, out, off)) {
                    break;
                }
            }
        } finally {
            VcpuMode.exitGuestMode(r);
        }
        return n;
    }

    /**
     * The TLB-hit accesses of a string copy ({@code rep movs}), as {@link #storeHits}: element by
     * element the load at {@code src} (access flags {@code acc}) then the store at {@code dst}
     * ({@code acc} with {@link Pfec#WRITE}) of the value loaded, starting at access {@code from}
     * (two per element: an odd one is the store of an element whose load is done, its value in
     * {@code out}), until {@code 2 * count} or one the general path must do.
     *
     * @return the accesses done from the first: {@code 2 * count}, or the index of the first not done
     */
    public static int copyHits(Hit h, VcpuRequests r, long dst, long src, int size, int from, int count, int acc,
            AccessResult out) {
        int k = from;
        int end = 2 * count;
        VcpuMode.publishGuestMode(r);
        try {
            for (; k < end; k++) {
                boolean load = (k & 1) == 0;
                long a = (load ? src : dst) + (long) (k >>> 1) * size;
                int off = (int) a & 4095;
                if (!fits(size, off) || !h.entryUnchanged()
                        || !h.hit(a, load ? 0 : out.value, size, load ? acc : acc | Pfec.WRITE, out, off)) {
                    break;
                }
            }
        } finally {
            VcpuMode.exitGuestMode(r);
        }
        return k;
    }
}
