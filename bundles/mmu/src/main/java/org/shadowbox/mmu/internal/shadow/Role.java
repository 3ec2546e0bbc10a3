package org.shadowbox.mmu.internal.shadow;

/**
 * KVM's {@code union kvm_mmu_page_role} packed in an {@code int}, with KVM's bit positions:
 * level (4 bits), cr4_pae, quadrant (2), direct, access (3), invalid, nxe, cr0_wp,
 * smep_andnot_wp, smap_andnot_wp, smm (8). Two shadow pages of one gfn are the same page
 * only if their role words are equal ({@code sp->role.word == role.word}).
 */
public final class Role {
    private static final int LEVEL_MASK = 0xf;
    public static final int CR4_PAE = 1 << 4;
    private static final int QUADRANT_SHIFT = 5;
    public static final int DIRECT = 1 << 13;
    private static final int ACCESS_SHIFT = 14;
    public static final int INVALID = 1 << 17;
    public static final int NXE = 1 << 18;
    public static final int CR0_WP = 1 << 19;
    public static final int SMEP_ANDNOT_WP = 1 << 20;
    public static final int SMAP_ANDNOT_WP = 1 << 21;
    private static final int SMM_SHIFT = 24;

    /**
     * The bits {@code kvm_mmu_pte_write} compares between a shadow page and the writing vCPU
     * ({@code mmu_base_role_mask}: cr0_wp, cr4_pae, nxe, smep_andnot_wp, smap_andnot_wp, smm)
     * before it installs a spte from the new gpte.
     */
    public static final int PTE_WRITE_MATCH_MASK = CR0_WP | CR4_PAE | NXE | SMEP_ANDNOT_WP | SMAP_ANDNOT_WP
            | (0xff << SMM_SHIFT);

    private Role() {
    }

    /**
     * A base role ({@code vcpu->arch.mmu.base_role} as {@code init_kvm_softmmu} sets it)
     * from the guest's paging controls: level 0, access ACC_ALL, not direct.
     */
    public static int base(boolean cr4Pae, boolean nxe, boolean cr0Wp, boolean smep, boolean smap) {
        int r = withAccess(0, Spte.ACC_ALL);
        r |= cr4Pae ? CR4_PAE : 0;
        r |= nxe ? NXE : 0;
        r |= cr0Wp ? CR0_WP : 0;
        r |= smep && !cr0Wp ? SMEP_ANDNOT_WP : 0;
        r |= smap && !cr0Wp ? SMAP_ANDNOT_WP : 0;
        return r;
    }

    public static int level(int role) {
        return role & LEVEL_MASK;
    }

    public static int withLevel(int role, int level) {
        return (role & ~LEVEL_MASK) | (level & LEVEL_MASK);
    }

    public static int quadrant(int role) {
        return (role >>> QUADRANT_SHIFT) & 3;
    }

    public static int withQuadrant(int role, int quadrant) {
        return (role & ~(3 << QUADRANT_SHIFT)) | ((quadrant & 3) << QUADRANT_SHIFT);
    }

    /**
     * {@code kvm_mmu_get_page}'s quadrant for a 32-bit guest: which 512-entry part of a
     * 1024-entry guest table a shadow page of {@code level} covers when got for {@code gaddr}:
     * {@code (gaddr >> (12 + 9 * level)) & ((1 << level) - 1)}, so bit 21 at level 1 and bits
     * 31:30 at level 2.
     */
    public static int quadrantOf(long gaddr, int level) {
        return (int) (gaddr >>> (12 + 9 * level)) & ((1 << level) - 1);
    }

    public static int access(int role) {
        return (role >>> ACCESS_SHIFT) & 7;
    }

    public static int withAccess(int role, int access) {
        return (role & ~(7 << ACCESS_SHIFT)) | ((access & 7) << ACCESS_SHIFT);
    }

    public static int smm(int role) {
        return (role >>> SMM_SHIFT) & 0xff;
    }

    public static int withSmm(int role, int smm) {
        return (role & ~(0xff << SMM_SHIFT)) | ((smm & 0xff) << SMM_SHIFT);
    }

    public static boolean direct(int role) {
        return (role & DIRECT) != 0;
    }

    public static boolean invalid(int role) {
        return (role & INVALID) != 0;
    }

    public static boolean cr4Pae(int role) {
        return (role & CR4_PAE) != 0;
    }

    public static boolean nxe(int role) {
        return (role & NXE) != 0;
    }

    public static boolean cr0Wp(int role) {
        return (role & CR0_WP) != 0;
    }

    /** As KVM's role tracepoint prints it: "l2 q0 direct uwx nxe wp ...". */
    public static String describe(int role) {
        StringBuilder sb = new StringBuilder("l").append(level(role)).append(" q").append(quadrant(role));
        sb.append(direct(role) ? " direct " : " ").append(Spte.describeAccess(access(role)));
        if (cr4Pae(role)) {
            sb.append(" pae");
        }
        if (nxe(role)) {
            sb.append(" nxe");
        }
        if (cr0Wp(role)) {
            sb.append(" wp");
        }
        if ((role & SMEP_ANDNOT_WP) != 0) {
            sb.append(" smep!wp");
        }
        if ((role & SMAP_ANDNOT_WP) != 0) {
            sb.append(" smap!wp");
        }
        if (smm(role) != 0) {
            sb.append(" smm");
        }
        if (invalid(role)) {
            sb.append(" invalid");
        }
        return sb.toString();
    }
}
