package org.shadowbox.mmu.internal.shadow;

/**
 * A shadow page table entry as a {@code long} with KVM's bit layout ({@code mmu.c},
 * {@code spte.h}): hardware bits P, W, U, A, D, PS and NX, and KVM's two software bits
 * {@code SPTE_HOST_WRITEABLE} and {@code SPTE_MMU_WRITEABLE}. A leaf carries the host frame
 * (pfn) in bits 12-51. A non-leaf spte names its child shadow page by the page's id in the
 * same field (KVM stores {@code __pa(sp->spt)}; Shadowbox's "physical address" of a shadow
 * table is its id).
 *
 * <p>Also the access bits of a walk ({@code ACC_*}), which {@link Role} and the fault path
 * use: KVM's {@code ACC_EXEC_MASK}, {@code ACC_WRITE_MASK}, {@code ACC_USER_MASK}.
 */
public final class Spte {
    public static final long PRESENT = 1L;            // PT_PRESENT_MASK
    public static final long WRITABLE = 1L << 1;      // PT_WRITABLE_MASK
    public static final long USER = 1L << 2;          // PT_USER_MASK (shadow_user_mask)
    public static final long ACCESSED = 1L << 5;      // shadow_accessed_mask
    public static final long DIRTY = 1L << 6;         // shadow_dirty_mask
    public static final long LARGE = 1L << 7;         // PT_PAGE_SIZE_MASK
    /** KVM's SPTE_HOST_WRITEABLE (PT_FIRST_AVAIL_BITS_SHIFT): the host page may be written. */
    public static final long HOST_WRITEABLE = 1L << 10;
    /** KVM's SPTE_MMU_WRITEABLE: the MMU allows W; without it even the fast path may not restore W. */
    public static final long MMU_WRITEABLE = 1L << 11;
    public static final long NX = 1L << 63;           // PT64_NX_MASK (shadow_nx_mask)
    /** Bits 12-51: PT64_BASE_ADDR_MASK. */
    public static final long ADDR_MASK = ((1L << 52) - 1) & ~0xfffL;

    /** ACC_EXEC_MASK */
    public static final int ACC_EXEC = 1;
    /** ACC_WRITE_MASK (= PT_WRITABLE_MASK) */
    public static final int ACC_WRITE = 2;
    /** ACC_USER_MASK (= PT_USER_MASK) */
    public static final int ACC_USER = 4;
    /** ACC_ALL */
    public static final int ACC_ALL = 7;

    /** Entries per shadow table (PT64_ENT_PER_PAGE). */
    public static final int ENTRIES = 512;

    private Spte() {
    }

    /** {@code is_shadow_present_pte}. */
    public static boolean isPresent(long spte) {
        return (spte & PRESENT) != 0;
    }

    /** {@code is_large_pte}. */
    public static boolean isLarge(long spte) {
        return (spte & LARGE) != 0;
    }

    /** {@code is_last_spte}: a leaf at level 1, or a large spte. */
    public static boolean isLast(long spte, int level) {
        return level == 1 || isLarge(spte);
    }

    /** {@code is_writable_pte}. */
    public static boolean isWritable(long spte) {
        return (spte & WRITABLE) != 0;
    }

    /** {@code spte_to_pfn}: the host frame of a leaf. */
    public static long pfn(long spte) {
        return (spte & ADDR_MASK) >>> 12;
    }

    /** The child shadow page id that a non-leaf spte names ({@code page_header(spte & PT64_BASE_ADDR_MASK)}). */
    public static int childId(long spte) {
        return (int) ((spte & ADDR_MASK) >>> 12);
    }

    /**
     * {@code link_shadow_page}'s spte: present, accessed, writable, user and executable, so
     * that the rights of a translation are decided by its leaf.
     */
    public static long makeNonLeaf(int childId) {
        return ((long) childId << 12) | PRESENT | WRITABLE | USER | ACCESSED;
    }

    /** The ACC_* rights a leaf grants (W, U, and X = !NX). */
    public static int access(long spte) {
        int acc = (spte & NX) == 0 ? ACC_EXEC : 0;
        if ((spte & WRITABLE) != 0) {
            acc |= ACC_WRITE;
        }
        if ((spte & USER) != 0) {
            acc |= ACC_USER;
        }
        return acc;
    }

    /** {@code spte_is_locklessly_modifiable}: both software writable bits set. */
    public static boolean isLocklesslyModifiable(long spte) {
        return (spte & (HOST_WRITEABLE | MMU_WRITEABLE)) == (HOST_WRITEABLE | MMU_WRITEABLE);
    }

    /** "P|W|U|..." for messages. */
    public static String describe(long spte) {
        if (!isPresent(spte)) {
            return "not-present";
        }
        StringBuilder sb = new StringBuilder("0x").append(Long.toHexString(spte & ADDR_MASK)).append(" P");
        if ((spte & WRITABLE) != 0) {
            sb.append("|W");
        }
        if ((spte & USER) != 0) {
            sb.append("|U");
        }
        if ((spte & LARGE) != 0) {
            sb.append("|PS");
        }
        if ((spte & NX) != 0) {
            sb.append("|NX");
        }
        if ((spte & MMU_WRITEABLE) != 0) {
            sb.append("|mmu-w");
        }
        return sb.toString();
    }

    /** ACC_* bits as "uwx" letters ("-" for a missing right). */
    public static String describeAccess(int acc) {
        return ((acc & ACC_USER) != 0 ? "u" : "-") + ((acc & ACC_WRITE) != 0 ? "w" : "-")
                + ((acc & ACC_EXEC) != 0 ? "x" : "-");
    }
}
