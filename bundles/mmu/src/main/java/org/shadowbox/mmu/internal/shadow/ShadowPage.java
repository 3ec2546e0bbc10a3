package org.shadowbox.mmu.internal.shadow;

import java.util.Arrays;

/**
 * One shadow page table: KVM's {@code struct kvm_mmu_page}. Keyed by (gfn, role); holds the
 * 512 sptes, the gfn each leaf maps ({@code gfns}, indirect pages only), the sptes that
 * point at it ({@code parent_ptes}), the unsync state and the counters KVM keeps.
 *
 * <p>A {@code sptep} (pointer to an spte) is encoded as a {@code long}: the page id times
 * 512 plus the index, see {@link #sptep}. All fields are guarded by the VM's MMU lock, with
 * one exception: the lockless walks ({@link VcpuMode}) read {@link #spt} and {@link #gfns}
 * without it. So every store to those two arrays is a release ({@link #setSpte}, {@link
 * #setGfn}) and the lockless reads are acquires ({@link #spteLockless}, {@link #gfnLockless}):
 * a walker that sees an spte sees everything written before it (the child page it names, fully
 * built; the gfn of a leaf). KVM gets the same from {@code mmu_spte_set}'s single 64-bit store
 * and the processor's ordered loads; the lock-holding readers keep plain loads.
 */
public final class ShadowPage {
    private static final java.lang.invoke.VarHandle SLOT = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

    final int id;
    final long gfn;
    /** The role word; only {@link Role#INVALID} changes after creation. */
    int role;
    final long[] spt;
    /** {@code sp->gfns}: the gfn each leaf spte maps; null for a direct page. */
    final long[] gfns;
    /** {@code parent_ptes}: encoded sptes that link this page. */
    long[] parentPtes = new long[2];
    int parentCount;
    /** {@code sp->unsync}: the guest may write the page table directly. Level-1 indirect only. */
    boolean unsync;
    /** {@code unsync_child_bitmap}: entries leading to unsync pages below. */
    final long[] unsyncChildBitmap = new long[Spte.ENTRIES / 64];
    /** {@code unsync_children}: bits set in the bitmap. */
    int unsyncChildren;
    /** {@code write_flooding_count}: emulated writes since the page was last used. */
    int writeFloodingCount;
    /** {@code root_count}: vCPU roots (current or cached) that hold the page. */
    int rootCount;
    // Links of the hash chain and of the active list, by id (-1 = none).
    int hashNext = -1;
    int activePrev = -1;
    int activeNext = -1;

    ShadowPage(int id, long gfn, int role) {
        this(id, gfn, role, new long[Spte.ENTRIES], Role.direct(role) ? null : new long[Spte.ENTRIES]);
    }

    /**
     * {@code kvm_mmu_alloc_page}: a page over zeroed tables from the vCPU's cache
     * ({@link MmuMemoryCache}); {@code gfns} null for a direct page.
     */
    ShadowPage(int id, long gfn, int role, long[] spt, long[] gfns) {
        this.id = id;
        this.gfn = gfn;
        this.role = role;
        this.spt = spt;
        this.gfns = gfns;
    }

    /** Encodes a pointer to entry {@code index} of page {@code spId}. */
    public static long sptep(int spId, int index) {
        return ((long) spId << 9) | index;
    }

    public static int sptepPage(long sptep) {
        return (int) (sptep >>> 9);
    }

    public static int sptepIndex(long sptep) {
        return (int) (sptep & (Spte.ENTRIES - 1));
    }

    public int id() {
        return id;
    }

    public long gfn() {
        return gfn;
    }

    public int role() {
        return role;
    }

    public int level() {
        return Role.level(role);
    }

    public boolean direct() {
        return Role.direct(role);
    }

    public boolean invalid() {
        return Role.invalid(role);
    }

    public boolean unsync() {
        return unsync;
    }

    public int unsyncChildren() {
        return unsyncChildren;
    }

    public int writeFloodingCount() {
        return writeFloodingCount;
    }

    public int rootCount() {
        return rootCount;
    }

    public int parentCount() {
        return parentCount;
    }

    public long parentPte(int i) {
        return parentPtes[i];
    }

    /** The spte at {@code index}. */
    public long spte(int index) {
        return spt[index];
    }

    /**
     * {@code mmu_spte_set} / {@code mmu_spte_update}'s store: a release, so that a lockless
     * walker that loads the new value also sees what was written before it. MMU lock held.
     */
    void setSpte(int index, long spte) {
        SLOT.setRelease(spt, index, spte);
    }

    /** The spte at {@code index} for a walker without the MMU lock: an acquire load. */
    long spteLockless(int index) {
        return (long) SLOT.getAcquire(spt, index);
    }

    /** {@code kvm_mmu_page_set_gfn}: a release store, published before the spte that maps it. MMU lock held. */
    void setGfn(int index, long gfn) {
        SLOT.setRelease(gfns, index, gfn);
    }

    /** {@link #gfnAt} for a walker without the MMU lock (an acquire load; see the class comment). */
    long gfnLockless(int index) {
        return gfns == null ? gfnAt(index) : (long) SLOT.getAcquire(gfns, index);
    }

    /**
     * {@code kvm_mmu_page_get_gfn}: the gfn entry {@code index} maps. A direct page maps
     * consecutive frames from its own gfn.
     */
    public long gfnAt(int index) {
        if (gfns == null) {
            return gfn + ((long) index << ((level() - 1) * 9));
        }
        return gfns[index];
    }

    /** Bytes of the guest entries this indirect page shadows: 8, or 4 for a 32-bit guest (role.cr4_pae clear). */
    public int gpteSize() {
        return Role.cr4Pae(role) ? 8 : 4;
    }

    /**
     * The guest-physical address of the gpte that entry {@code index} shadows
     * ({@code FNAME(get_level1_sp_gpa)} plus the index). With 8-byte gptes it is entry
     * {@code index} of the guest table. With 4-byte gptes the 512 entries cover one quadrant of
     * the 1024-entry guest table: at level 1, guest entry {@code quadrant * 512 + index}; at
     * level 2 two shadow entries (two 2 MiB halves) share guest entry
     * {@code quadrant * 256 + index / 2}.
     */
    public long gpteGpa(int index) {
        long table = gfn << 12;
        if (Role.cr4Pae(role)) {
            return table + 8L * index;
        }
        int quadrant = Role.quadrant(role);
        int entry = level() == 1 ? quadrant * 512 + index : quadrant * 256 + index / 2;
        return table + 4L * entry;
    }

    /**
     * The lowest guest address that entry {@code index} translates, within the part of the
     * address space a page of this level and quadrant covers (bits above are the caller's).
     */
    public long entryGva(int index) {
        int shift = 12 + 9 * (level() - 1);
        return ((long) Role.quadrant(role) << (shift + 9)) | ((long) index << shift);
    }

    /** {@code mmu_page_add_parent_pte}. */
    void addParent(long sptep) {
        if (parentCount == parentPtes.length) {
            parentPtes = Arrays.copyOf(parentPtes, parentCount * 2);
        }
        parentPtes[parentCount++] = sptep;
    }

    /** {@code mmu_page_remove_parent_pte}. */
    void removeParent(long sptep) {
        for (int i = 0; i < parentCount; i++) {
            if (parentPtes[i] == sptep) {
                parentPtes[i] = parentPtes[--parentCount];
                return;
            }
        }
        throw new IllegalStateException("sptep " + describeSptep(sptep) + " is not a parent of " + this);
    }

    boolean hasParent(long sptep) {
        for (int i = 0; i < parentCount; i++) {
            if (parentPtes[i] == sptep) {
                return true;
            }
        }
        return false;
    }

    /** Sets bit {@code index} of the unsync-child bitmap; true if it was clear. */
    boolean setUnsyncChild(int index) {
        long bit = 1L << (index & 63);
        if ((unsyncChildBitmap[index >>> 6] & bit) != 0) {
            return false;
        }
        unsyncChildBitmap[index >>> 6] |= bit;
        unsyncChildren++;
        return true;
    }

    /** {@code clear_unsync_child_bit}. */
    void clearUnsyncChild(int index) {
        long bit = 1L << (index & 63);
        if ((unsyncChildBitmap[index >>> 6] & bit) != 0) {
            unsyncChildBitmap[index >>> 6] &= ~bit;
            unsyncChildren--;
        }
    }

    boolean unsyncChild(int index) {
        return (unsyncChildBitmap[index >>> 6] & (1L << (index & 63))) != 0;
    }

    static String describeSptep(long sptep) {
        return "sp" + sptepPage(sptep) + "[" + sptepIndex(sptep) + "]";
    }

    @Override
    public String toString() {
        return "sp" + id + " gfn 0x" + Long.toHexString(gfn) + " (" + Role.describe(role) + (unsync ? ", unsync" : "")
                + ")";
    }
}
