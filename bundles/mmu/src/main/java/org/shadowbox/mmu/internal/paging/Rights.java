package org.shadowbox.mmu.internal.paging;

import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;

/**
 * The rules every translation path applies, written once: {@code permission_fault} (the
 * guest walker, the shadow MMU's TLB and hardware walk, the TDP TLB), {@code mapping_level}
 * and {@code page_fault_handle_page_track} (the shadow and TDP fault handlers). No allocation.
 */
public final class Rights {
    private Rights() {
    }

    /**
     * {@code permission_fault}: whether an access with the error-code bits {@code access}
     * ({@link Pfec#WRITE}, {@link Pfec#USER}, {@link Pfec#FETCH}) faults on a translation with
     * these effective rights, under CR0.WP, CR4.SMEP and CR4.SMAP (EFLAGS.AC lifts SMAP for a
     * supervisor data access). A user access needs U, W for a write, X for a fetch; a
     * supervisor fetch needs X and, under SMEP, a supervisor page; a supervisor data access to
     * a user page faults under SMAP unless AC; a supervisor write ignores W when CR0.WP is 0.
     */
    public static boolean permissionFault(int access, boolean user, boolean writable, boolean nx, long cr0, long cr4,
            long rflags) {
        boolean write = (access & Pfec.WRITE) != 0;
        boolean fetch = (access & Pfec.FETCH) != 0;
        if ((access & Pfec.USER) != 0) {
            return !user || (write && !writable) || (fetch && nx);
        }
        if (fetch) {
            return nx || (user && (cr4 & Register.CR4_SMEP) != 0);
        }
        boolean smap = user && (cr4 & Register.CR4_SMAP) != 0 && (rflags & Register.RFLAGS_AC) == 0;
        return smap || (write && !writable && (cr0 & Register.CR0_WP) != 0);
    }

    /**
     * The fault kind {@code page_fault_handle_page_track} asks page track about: PRESENT and
     * WRITE set, RSVD clear (a write to a mapped page, not a reserved-bit fault).
     */
    public static boolean pageTrackCandidate(int errorCode) {
        return (errorCode & Pfec.RSVD) == 0 && (errorCode & (Pfec.PRESENT | Pfec.WRITE)) == (Pfec.PRESENT | Pfec.WRITE);
    }

    /**
     * {@code page_fault_handle_page_track}: true only for a {@link #pageTrackCandidate} fault on
     * a write-tracked gfn; the fault is then emulated, never fixed. {@code is_active} reads the
     * count without the MMU lock.
     */
    public static boolean handlePageTrack(int errorCode, PageTrack pageTrack, Vm vm, long gfn) {
        return pageTrackCandidate(errorCode) && pageTrack.isActive(vm, gfn, TrackMode.WRITE);
    }

    /**
     * {@code mapping_level}: the largest level up to {@code maxLevel} (at most 1 GiB) whose
     * frame around {@code gfn} lies whole in {@code slot} with a zero disallow count
     * ({@code mmu_gfn_lpage_is_disallowed}); 4 KiB in a slot that logs dirty pages.
     */
    public static int mappingLevel(Memslot slot, long gfn, int maxLevel) {
        if (maxLevel <= 1 || slot.dirtyLogging()) {
            return 1;
        }
        int level = Memslot.LEVEL_2M;
        for (; level <= Math.min(maxLevel, Memslot.LEVEL_1G); level++) {
            long first = gfn & -(1L << ((level - 1) * 9));
            long last = first + (1L << ((level - 1) * 9)) - 1;
            if (!slot.contains(first) || !slot.contains(last) || slot.lpageDisallowCount(gfn, level) != 0) {
                break;
            }
        }
        return level - 1;
    }
}
