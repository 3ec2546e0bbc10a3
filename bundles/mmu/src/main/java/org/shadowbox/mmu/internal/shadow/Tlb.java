package org.shadowbox.mmu.internal.shadow;

import java.util.Arrays;

import org.shadowbox.mmu.internal.paging.Rights;
import org.shadowbox.vm.Register;

/**
 * A vCPU's TLB: a direct-mapped cache of translations filled from the sptes (gva page to
 * host page, with the rights of the spte walk). It is what makes a missing TLB flush
 * observable: an entry stays usable until the vCPU flushes it, whatever happened to the
 * sptes meanwhile. A lookup allocates nothing.
 *
 * <p>What a hit reads is the tag ({@link #vpn}), the permission check already done for every
 * kind of access ({@link #allowed}), the gfn and the host page, each an array of its own (the
 * TDP TLB's layout: measured faster than the tag and the gfn in two adjacent longs of one
 * array, docs/mmu.md, "What a TLB hit costs"). The check ({@link
 * Rights#permissionFault}) depends on the rights of the walk, on CR4 (SMEP, SMAP), which
 * cannot change without a flush of this TLB, and on EFLAGS.AC, which can: so at fill time it is
 * evaluated for the 8 combinations of write, user and fetch, each with AC clear and set, into
 * 16 bits, and a hit is a shift and a mask. The processor caches the same decision with the
 * translation.
 */
public final class Tlb {
    private final int mask;
    /** Per entry, the tag: the gva page number, or -1 for an empty entry. */
    private final long[] vpn;
    private final long[] gfn;
    /** Per entry, the 16 permission bits ({@link #allows}). */
    private final int[] allowed;
    private final long[] pfn;
    private final int[] access;
    private final byte[][] page;
    /**
     * A sequence count for the checker, which reads another thread's TLB ({@link #sequence}):
     * odd while the vCPU's thread changes this TLB or owes it a flush it has begun to act on,
     * even otherwise. Two steps per fill ({@link #fill}) and per flush window ({@link
     * #beginFlushWindow}, {@link #endFlushWindow}). Written only by the vCPU's thread.
     */
    private long sequence;
    private static final java.lang.invoke.VarHandle SEQUENCE;

    static {
        try {
            SEQUENCE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Tlb.class, "sequence", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** @param entries a power of two, 1 to 65536 */
    public Tlb(int entries) {
        if (entries < 1 || entries > 65536 || Integer.bitCount(entries) != 1) {
            throw new org.shadowbox.vm.VmException("bad TLB size " + entries + ": accepted a power of two from 1 to 65536");
        }
        mask = entries - 1;
        vpn = new long[entries];
        gfn = new long[entries];
        allowed = new int[entries];
        pfn = new long[entries];
        access = new int[entries];
        page = new byte[entries][];
        flush();
    }

    public int size() {
        return access.length;
    }

    /** The slot of {@code gvaPage} if it is cached, else -1. */
    int lookup(long gvaPage) {
        int i = (int) gvaPage & mask;
        return vpn[i] == gvaPage ? i : -1;
    }

    /**
     * Caches a translation with the rights {@code acc} of its walk ({@link Spte#ACC_USER},
     * {@link Spte#ACC_WRITE}, {@link Spte#ACC_EXEC}) under {@code cr4}, the CR4 the processor
     * runs the guest with (it cannot change before this TLB is flushed).
     */
    void fill(long gvaPage, long gfnValue, long pfnValue, int acc, byte[] hostPage, long cr4) {
        int i = (int) gvaPage & mask;
        int ok = 0;
        for (int k = 0; k < 16; k++) {
            int a = ((k & 1) != 0 ? org.shadowbox.mmu.internal.paging.Pfec.WRITE : 0)
                    | ((k & 2) != 0 ? org.shadowbox.mmu.internal.paging.Pfec.USER : 0)
                    | ((k & 4) != 0 ? org.shadowbox.mmu.internal.paging.Pfec.FETCH : 0);
            if (!Rights.permissionFault(a, (acc & Spte.ACC_USER) != 0, (acc & Spte.ACC_WRITE) != 0,
                    (acc & Spte.ACC_EXEC) == 0, Register.CR0_WP, cr4, (k & 8) != 0 ? Register.RFLAGS_AC : 0)) {
                ok |= 1 << k;
            }
        }
        long seq = sequence;
        assert (seq & 1) == 0 : "a TLB fill inside a flush window";
        SEQUENCE.setOpaque(this, seq + 1); // odd: a fill is under way
        java.lang.invoke.VarHandle.storeStoreFence(); // ... before any of its stores
        vpn[i] = gvaPage;
        gfn[i] = gfnValue;
        allowed[i] = ok;
        pfn[i] = pfnValue;
        access[i] = acc;
        page[i] = hostPage;
        SEQUENCE.setRelease(this, seq + 2); // even again, after the stores
    }

    /**
     * The vCPU's thread begins to act on a flush it owes: before it takes a flush request from
     * its request word ({@code kvm_check_request(KVM_REQ_TLB_FLUSH)} clears the bit before {@code
     * kvm_vcpu_flush_tlb} runs), or before it changes its root or paging context under the MMU
     * lock and flushes after unlocking. Until {@link #endFlushWindow} the TLB may be ahead of the
     * sptes with no request left to show it; the odd count tells the checker so. The odd store
     * comes before the window's first store (the request word's clear among them).
     */
    void beginFlushWindow() {
        long seq = sequence;
        assert (seq & 1) == 0 : "TLB flush window opened twice";
        SEQUENCE.setOpaque(this, seq + 1);
        java.lang.invoke.VarHandle.storeStoreFence();
    }

    /** The owed flush is done ({@link #beginFlushWindow}): even again, after the flush's stores (release). */
    void endFlushWindow() {
        assert (sequence & 1) != 0 : "TLB flush window closed but not open";
        SEQUENCE.setRelease(this, sequence + 1);
    }

    /**
     * The sequence count, for a reader on another thread (the checker), as a seqlock: read it
     * before reading anything the vCPU's thread writes (an odd value: a fill or an owed flush is
     * under way), then {@code VarHandle.acquireFence()} and read it again; what was read between
     * two equal even values was not torn by a fill and owed no flush.
     */
    long sequence() {
        return (long) SEQUENCE.getAcquire(this);
    }

    /**
     * The hardware's permission check of slot {@code i} for access {@code acc} ({@link
     * org.shadowbox.mmu.internal.paging.Pfec} bits), with EFLAGS.AC as given ({@code
     * permission_fault}, decided at fill time).
     */
    boolean allows(int i, int acc, boolean ac) {
        int k = ((acc >>> 1) & 3) | ((acc >>> 2) & 4) | (ac ? 8 : 0);
        return ((allowed[i] >>> k) & 1) != 0;
    }

    void invalidate(int i) {
        vpn[i] = -1;
        page[i] = null;
    }

    /** Drops every entry. */
    void flush() {
        Arrays.fill(vpn, -1L);
        Arrays.fill(page, null);
    }

    int access(int i) {
        return access[i];
    }

    long gfn(int i) {
        return gfn[i];
    }

    long pfn(int i) {
        return pfn[i];
    }

    byte[] page(int i) {
        return page[i];
    }

    /** The gva page of slot {@code i}, or -1 if empty (for the checker). */
    long vpn(int i) {
        return vpn[i];
    }
}
